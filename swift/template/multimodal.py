"""Templates of vision-language models: a row's `images` fill its `<image>` tags.

The text side is the family's chat format (tags replaced by `image_placeholder`); the processor then does what
is model-specific: its image processor makes the tensors (pixel_values, and image_grid_thw for Qwen2-VL) and its
`replace_image_token` says how many image tokens each image becomes, so no family counts tokens by hand.
"""
import re
from typing import Any, Dict, List, Optional

import torch

from swift.utils import TemplateError

from .base import MaxLengthError, Template
from .render import tokenize

IMAGE_TAG = '<image>'


class MultimodalTemplate(Template):
    image_placeholder = IMAGE_TAG  # what an `<image>` tag becomes in the text (must hold the image token)

    def __init__(self, tokenizer, template_meta, *args, **kwargs):
        super().__init__(tokenizer, template_meta, *args, **kwargs)
        self.processor = getattr(tokenizer, 'processor', None)

    def _conversation(self, row, mode):
        system, rounds = super()._conversation(_with_tags(row, self.image_placeholder), mode)
        return system, rounds

    def encode(self, row: Dict[str, Any], mode: Optional[str] = None) -> Dict[str, Any]:
        mode = mode or self.mode
        images = _load_images(row)
        if images and self.processor is None:
            raise TemplateError(f'Template {self.template_meta.template_type!r} got images but the tokenizer has no '
                                'processor; load the model with its multimodal model_type.')
        input_ids, weights = tokenize(self._pieces(row, mode), self.tokenizer)
        extra = {}
        if images or (self.processor is not None and self._image_token_id() in input_ids):
            input_ids, weights, extra = self._expand_images(input_ids, weights, images)
        expected = input_ids.count(self._image_token_id()) if images else 0
        encoded = self._finish(input_ids, weights, mode)
        if images and encoded['input_ids'].count(self._image_token_id()) != expected:
            raise MaxLengthError(f'Truncating to max_length {self.max_length} would cut an image; raise '
                                 '--max_length or use --truncation_strategy delete.')
        encoded.update(extra)
        return encoded

    def encode_batch(self, rows, mode=None):
        out = []
        for row in rows:
            try:
                out.append(self.encode(row, mode))
            except TemplateError as error:
                out.append(error)
        return out

    def _image_token_id(self) -> int:
        return self.processor.image_token_id

    def _expand_images(self, input_ids: List[int], weights: List[float], images: list):
        """Each image token of the text -> the processor's expansion for that image (no loss on it)."""
        processor, token = self.processor, self._image_token_id()
        found = [i for i, t in enumerate(input_ids) if t == token]
        if len(found) != len(images):
            raise TemplateError(f'The row has {len(images)} images but {len(found)} {IMAGE_TAG} tags; give one tag '
                                'per image.')
        if not images:
            return input_ids, weights, {}
        inputs = processor.image_processor(images, return_tensors='pt')
        ids, ws, last = [], [], 0
        for k, at in enumerate(found):
            span = self.tokenizer.encode(processor.replace_image_token(inputs, k), add_special_tokens=False)
            ids += input_ids[last:at] + span
            ws += weights[last:at] + [0.] * len(span)
            last = at + 1
        ids += input_ids[last:]
        ws += weights[last:]
        return ids, ws, {k: v for k, v in inputs.items() if isinstance(v, torch.Tensor)}

    def data_collator(self, batch: List[Dict[str, Any]], padding_to: Optional[int] = None) -> Dict[str, Any]:
        out = super().data_collator(batch, padding_to)
        out.update(collate_media(batch))
        return out


def collate_media(batch: List[Dict[str, Any]]) -> Dict[str, torch.Tensor]:
    """The rows' image tensors concatenated along the first dimension (images of all rows in row order)."""
    keys = dict.fromkeys(k for row in batch for k, v in row.items() if isinstance(v, torch.Tensor))
    return {k: torch.cat([row[k] for row in batch if row.get(k) is not None]) for k in keys}


def _load_images(row: Dict[str, Any]) -> list:
    from swift.utils import SwiftError
    from .vision import load_image
    images = []
    for i, ref in enumerate(row.get('images') or []):
        try:
            images.append(load_image(ref))
        except SwiftError:
            raise
        except Exception as e:  # noqa: BLE001 - a missing or undecodable image is bad input, said in one line
            shown = ref if isinstance(ref, str) and len(ref) < 200 else type(ref).__name__
            raise TemplateError(f'images[{i}] ({shown}) cannot be loaded: {str(e).splitlines()[0] if str(e) else e!r}'
                                ) from None
    return images


def _with_tags(row: Dict[str, Any], placeholder: str) -> Dict[str, Any]:
    """`<image>` tags -> the family's placeholder; images without any tag go in front of the first user message."""
    images = row.get('images') or []
    messages = [dict(m) for m in row['messages']]
    if images and not any(IMAGE_TAG in (m.get('content') or '') for m in messages):
        first = next((m for m in messages if m['role'] == 'user'), None)
        if first is not None:
            first['content'] = IMAGE_TAG * len(images) + (first.get('content') or '')
    for m in messages:
        if m['role'] in ('user', 'system') and IMAGE_TAG in (m.get('content') or ''):
            m['content'] = re.sub(re.escape(IMAGE_TAG), lambda _: placeholder, m['content'])
    return {**row, 'messages': messages}
