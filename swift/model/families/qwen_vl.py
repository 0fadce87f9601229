"""Qwen2-VL and Qwen2.5-VL (transformers' Qwen2VLForConditionalGeneration / Qwen2_5_VLForConditionalGeneration)."""
from ..constant import MLLMModelArch, MLLMModelType
from ..loader import get_model_tokenizer_with_flash_attn
from ..processor import load_processor
from ..register import Model, ModelGroup, ModelMeta, register_model

_PROCESSORS = {'Qwen2VLForConditionalGeneration': 'Qwen2VLProcessor',
               'Qwen2_5_VLForConditionalGeneration': 'Qwen2_5_VLProcessor'}


def get_model_tokenizer_qwen2_vl(model_dir: str, model_info, model_kwargs, load_model: bool = True, **kwargs):
    """(model, tokenizer); the tokenizer carries the model's processor as `.processor` (the template uses it for
    images, everything else keeps using the tokenizer)."""
    import transformers
    from transformers import AutoModelForImageTextToText, AutoTokenizer
    architecture = (getattr(model_info.config, 'architectures', None) or ['Qwen2VLForConditionalGeneration'])[0]
    processor_cls = getattr(transformers, _PROCESSORS.get(architecture, 'Qwen2VLProcessor'))
    processor = load_processor(model_dir, AutoTokenizer.from_pretrained(model_dir, trust_remote_code=True),
                               processor_cls)
    tokenizer = processor.tokenizer
    tokenizer.processor = processor
    model, tokenizer = get_model_tokenizer_with_flash_attn(model_dir, model_info, model_kwargs, load_model,
                                                           tokenizer=tokenizer,
                                                           automodel_class=AutoModelForImageTextToText, **kwargs)
    if model is not None:
        _part_accessors(type(model))
    return model, tokenizer


def _part_accessors(cls) -> None:
    """transformers 4.x's `model.visual` / `model.language_model` (ms-swift 3.x plugins use them); transformers 5
    keeps the parts under `model.model` only. Read-only properties, so state_dict keys do not change."""
    for name in ('visual', 'language_model'):
        if not hasattr(cls, name):
            setattr(cls, name, property(lambda self, name=name: getattr(self.model, name)))


def _qwen(name: str) -> Model:
    return Model(f'Qwen/{name}', f'Qwen/{name}')


def _vl_meta(model_type: str, groups, template: str, architecture: str, requires: str, *tags: str) -> ModelMeta:
    return ModelMeta(model_type, groups, template, get_model_tokenizer_qwen2_vl, model_arch=MLLMModelArch.qwen2_vl,
                     architectures=[architecture], is_multimodal=True, requires=[requires],
                     tags=['vision', *tags])


register_model(_vl_meta(
    MLLMModelType.qwen2_vl,
    [ModelGroup([_qwen(f'Qwen2-VL-{size}-Instruct') for size in ('2B', '7B', '72B')]),
     ModelGroup([_qwen(f'Qwen2-VL-{size}') for size in ('2B', '7B', '72B')])],
    'qwen2_vl', 'Qwen2VLForConditionalGeneration', 'transformers>=4.45'))

register_model(_vl_meta(
    MLLMModelType.qwen2_5_vl,
    [ModelGroup([_qwen(f'Qwen2.5-VL-{size}-Instruct') for size in ('3B', '7B', '32B', '72B')])],
    'qwen2_5_vl', 'Qwen2_5_VLForConditionalGeneration', 'transformers>=4.49'))

register_model(_vl_meta(
    MLLMModelType.tiny_qwen2_vl, [ModelGroup([Model('swift/tiny-qwen2-vl', 'swift/tiny-qwen2-vl')])],
    'qwen2_vl', 'Qwen2VLForConditionalGeneration', 'transformers>=5.20', 'offline', 'test'))

register_model(_vl_meta(
    MLLMModelType.tiny_qwen2_5_vl, [ModelGroup([Model('swift/tiny-qwen2_5-vl', 'swift/tiny-qwen2_5-vl')])],
    'qwen2_5_vl', 'Qwen2_5_VLForConditionalGeneration', 'transformers>=5.20', 'offline', 'test'))
