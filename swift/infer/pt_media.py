"""Images in the pt engine: the encoded rows' vision tensors go into the prefill forward only.

The prefill of a group of rows gets their pixel_values (and image_grid_thw, ...) concatenated in row order, as the
template's collator does for training; the decode steps after it are text-only (the KV cache holds the image
tokens). Models with multimodal RoPE (Qwen2-VL: `get_rope_index`) get their 3-D prefill positions from the model's
own function; the next text position of a row is then one past its last position.
"""
from typing import Dict, List

import torch

_TYPE_OF = (('image_token_id', 1), ('image_token_index', 1), ('video_token_id', 2))


def media_token_ids(model) -> Dict[int, int]:
    """{token id: 1 (image) | 2 (video)} of a vision-language model's placeholder tokens (empty for text models)."""
    config = getattr(model, 'config', None)
    out = {}
    for key, kind in _TYPE_OF:
        value = getattr(config, key, None)
        if isinstance(value, int):
            out.setdefault(value, kind)
    return out


def text_prefix(ids: List[int], media_ids: Dict[int, int]) -> List[int]:
    """The prompt up to its first image/video token: the part whose KV does not depend on the images."""
    for i, token in enumerate(ids):
        if token in media_ids:
            return ids[:i]
    return ids


def rope_index_fn(model):
    for module in model.modules():
        fn = getattr(module, 'get_rope_index', None)
        if callable(fn):
            return fn
    return None


def media_inputs(rows: List[Dict[str, torch.Tensor]], dtype: torch.dtype, device) -> Dict[str, torch.Tensor]:
    """The rows' vision tensors concatenated along dim 0; floating ones in the model's dtype."""
    keys = dict.fromkeys(k for row in rows for k in row)
    out = {}
    for key in keys:
        value = torch.cat([row[key] for row in rows if key in row]).to(device)
        out[key] = value.to(dtype) if value.is_floating_point() else value
    return out


def mrope_positions(rope_index, ids: torch.Tensor, mask: torch.Tensor, media: Dict[str, torch.Tensor],
                    media_ids: Dict[int, int]) -> torch.Tensor:
    """[3, batch, length] positions from the model's get_rope_index (left padding masked out)."""
    positions, _ = rope_index(ids, mm_token_type_ids=mm_token_types(ids, media_ids),
                              image_grid_thw=media.get('image_grid_thw'), video_grid_thw=media.get('video_grid_thw'),
                              attention_mask=mask)
    return positions


def mm_token_types(ids: torch.Tensor, media_ids: Dict[int, int]) -> torch.Tensor:
    """0 text, 1 image, 2 video per token (the processor's `mm_token_type_ids`)."""
    types = torch.zeros_like(ids, dtype=torch.int)
    for token, kind in media_ids.items():
        types[ids == token] = kind
    return types
