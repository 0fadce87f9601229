"""Qwen2-VL / Qwen2.5-VL: ChatML with <|vision_start|><|image_pad|><|vision_end|> where each image goes (the
official chat template's rendering of an image content part), expanded by the model's processor."""
import importlib
from functools import partial
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import torch

from swift.utils import TemplateError

from ..constant import TemplateType
from ..multimodal import VisionTemplate
from ..register import register_template
from .qwen import QWEN_SYSTEM, QwenTemplate, chatml_meta

# config.model_type -> the transformers module and class whose get_rope_index computes the 3D (M-RoPE) positions
_ROPE_MODELS = {'qwen2_vl': ('transformers.models.qwen2_vl.modeling_qwen2_vl', 'Qwen2VLModel'),
                'qwen2_5_vl': ('transformers.models.qwen2_5_vl.modeling_qwen2_5_vl', 'Qwen2_5_VLModel')}


class Qwen2VLTemplate(VisionTemplate, QwenTemplate):
    image_placeholder = '<|vision_start|><|image_pad|><|vision_end|>'
    video_placeholder = '<|vision_start|><|video_pad|><|vision_end|>'

    def packed_position_ids(self, sample: Dict[str, Any]) -> Optional[List[List[int]]]:
        """The sample's (temporal, height, width) M-RoPE positions, computed by the model class's own
        get_rope_index (a method that reads only `config` and `get_vision_position_ids` of its model, so it is
        called on a stand-in holding the model's config). Packing needs them per sample: the model would
        otherwise number the whole pack as one sequence, and a text-only sample still needs its three rows, as
        the model separates packed samples only when given (text, 3D) positions."""
        grid = sample.get('image_grid_thw')
        video_grid = sample.get('video_grid_thw')
        if grid is None and video_grid is None:
            return [list(range(len(sample['input_ids'])))] * 3
        config = getattr(getattr(self.tokenizer, 'model_info', None), 'config', None)
        if config is None or config.model_type not in _ROPE_MODELS:
            raise TemplateError('Packing image rows needs the Qwen2-VL model config: load the tokenizer with '
                                'swift.model.get_model_tokenizer.')
        module, name = _ROPE_MODELS[config.model_type]
        model_cls = getattr(importlib.import_module(module), name)
        shim = SimpleNamespace(config=config)
        shim.get_vision_position_ids = partial(model_cls.get_vision_position_ids, shim)
        kwargs = {'image_grid_thw': _tensor(grid), 'video_grid_thw': _tensor(video_grid)}
        if sample.get('second_per_grid_ts') is not None:
            kwargs['second_per_grid_ts'] = _tensor(sample['second_per_grid_ts'], torch.float32)
        position_ids, _ = model_cls.get_rope_index(
            shim, torch.tensor([sample['input_ids']]), mm_token_type_ids=torch.tensor([sample['mm_token_type_ids']]),
            **kwargs)
        return position_ids[:, 0].tolist()


def _tensor(value, dtype=torch.long):
    if value is None or isinstance(value, torch.Tensor):
        return value
    return torch.tensor(value, dtype=dtype)


register_template(chatml_meta(TemplateType.qwen2_vl, default_system=QWEN_SYSTEM, template_cls=Qwen2VLTemplate))
register_template(chatml_meta(TemplateType.qwen2_5_vl, default_system=QWEN_SYSTEM, template_cls=Qwen2VLTemplate))
