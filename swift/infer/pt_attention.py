"""Attention for the pt engine's models: transformers' SDPA, except for single-token decode steps.

During decode every row has one query token. transformers' SDPA path sends that through the CPU flash kernel,
which is several times slower at these sizes than two batched matmuls over the grouped heads (the query heads of
one key/value head attend together, so keys and values are never repeated). Prefill, training and anything unusual
(dropout, softcap, sinks, position bias) keep the stock function, and the mask interface stays SDPA's, so the
results are the same.
"""
import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

NAME = 'swift_sdpa'
_UNSUPPORTED = ('position_bias', 'softcap', 's_aux', 'sinks', 'cache')


def _fast_path(query, key, mask, dropout: float, kwargs) -> bool:
    """One query token, no dropout or extras, and a mask (if any) shared by all heads over exactly the keys."""
    if query.shape[2] != 1 or dropout or kwargs.get('output_attentions'):
        return False
    if any(kwargs.get(k) is not None for k in _UNSUPPORTED):
        return False
    return mask is None or (mask.shape[1] == 1 and mask.shape[-1] == key.shape[-2])


def decode_sdpa_forward(module, query, key, value, attention_mask, dropout: float = 0.0, scaling=None, **kwargs):
    if not _fast_path(query, key, attention_mask, dropout, kwargs):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, **kwargs)
    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    q = query.reshape(batch, kv_heads, heads // kv_heads, dim)  # [B, KV, G, D]
    scores = torch.matmul(q, key.transpose(-1, -2)).mul_(dim ** -0.5 if scaling is None else scaling)
    if attention_mask is not None:  # [B, 1, 1, L]: the same for every head
        if attention_mask.dtype == torch.bool:
            scores.masked_fill_(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores.add_(attention_mask)
    probs = scores.softmax(-1, dtype=torch.float32).to(value.dtype)
    out = torch.matmul(probs, value)  # [B, KV, G, D]
    return out.reshape(batch, 1, heads, dim), None


def use_decode_attention(model) -> bool:
    """Switch a model that uses SDPA to the decode fast path (same results); False when it uses something else."""
    config = getattr(model, 'config', None)
    if getattr(config, '_attn_implementation', None) != 'sdpa' or not hasattr(model, 'set_attn_implementation'):
        return False
    if NAME not in AttentionInterface._global_mapping:
        AttentionInterface.register(NAME, decode_sdpa_forward)
        AttentionMaskInterface.register(NAME, sdpa_mask)
    try:
        model.set_attn_implementation(NAME)
    except (ValueError, KeyError, TypeError):  # a model that refuses a registered function keeps its SDPA
        return False
    return model.config._attn_implementation == NAME
