"""A preallocated, row-resizable KV cache for the pt engine's decode loop.

Every layer keeps keys/values in a [rows, heads, capacity, dim] buffer; all rows share the write column `length`
(left padding, masked by `valid`), so a decode step writes one column in place instead of re-concatenating the
whole cache (DynamicCache). Between steps rows can leave (`select`) and newly prefilled rows can join (`merge`,
right-aligning both caches); both copy the buffers once, which is rare compared with decode steps.
"""
from typing import List, Optional, Tuple

import torch
from transformers.cache_utils import Cache, DynamicLayer, get_layer_types_and_kwargs

from .pt_attention import NAME as DECODE_SDPA

HEADROOM = 64  # spare columns allocated beyond the current need; growing copies the cache


def supports_slots(model) -> bool:
    """Only decoder-only models whose layers all attend to the full context (no sliding/linear/shared layers)."""
    config = getattr(model, 'config', None)
    if config is None or getattr(config, 'is_encoder_decoder', False):
        return False
    try:
        layer_types, _ = get_layer_types_and_kwargs(config.get_text_config(decoder=True))
    except Exception:  # noqa: BLE001 - configs the helper cannot read use the dynamic path
        return False
    return bool(layer_types) and all(t == 'full_attention' for t in layer_types)


def num_cache_layers(model) -> int:
    return model.config.get_text_config(decoder=True).num_hidden_layers


class SlotLayer(DynamicLayer):
    """One layer's view of a SlotCache: writes the new columns at the cache's `length`, returns all used columns."""

    def __init__(self, cache: 'SlotCache', index: int):
        super().__init__()
        self.cache, self.index = cache, index
        self.is_initialized = True

    def update(self, key_states, value_states, *args, **kwargs):
        cache = self.cache
        if cache.keys[self.index] is None:
            cache.allocate(self.index, key_states, value_states)
        start = cache.length
        end = start + key_states.shape[-2]
        keys, values = cache.keys[self.index], cache.values[self.index]
        keys[:, :, start:end] = key_states
        values[:, :, start:end] = value_states
        self.keys, self.values = keys[:, :, :end], values[:, :, :end]
        return self.keys, self.values

    def get_seq_length(self) -> int:
        return self.cache.length

    def get_mask_sizes(self, query_length: int) -> tuple:
        return self.cache.length + query_length, 0

    def get_max_length(self) -> int:
        return self.cache.capacity


class SlotCache(Cache):
    """KV buffers of `rows` sequences; columns [0, length) are written, `valid` marks the non-padding ones."""

    def __init__(self, num_layers: int, rows: int, capacity: int, device):
        self.rows, self.capacity, self.length = rows, capacity, 0
        self.keys: List[Optional[torch.Tensor]] = [None] * num_layers
        self.values: List[Optional[torch.Tensor]] = [None] * num_layers
        self.valid = torch.zeros(rows, capacity, dtype=torch.bool, device=device)
        self.parent: Optional[Tuple['SlotCache', slice]] = None  # set on a rows_view
        super().__init__(layers=[SlotLayer(self, i) for i in range(num_layers)])

    def rows_view(self, start: int, stop: int) -> 'SlotCache':
        """Rows [start, stop) as a cache of their own whose writes land in this cache's buffers, so that prefill
        groups fill one batch cache without copying it afterwards."""
        view = SlotCache(len(self.keys), stop - start, self.capacity, self.valid.device)
        view.parent = (self, slice(start, stop))
        view.valid = self.valid[start:stop]  # keys/values: sliced from this cache on first use (allocate)
        return view

    def allocate(self, index: int, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        if self.parent is not None:
            parent, rows = self.parent
            if parent.keys[index] is None:
                parent.allocate(index, key_states, value_states)
            self.keys[index], self.values[index] = parent.keys[index][rows], parent.values[index][rows]
            return
        self.keys[index] = key_states.new_zeros(self._shape(key_states))
        self.values[index] = value_states.new_zeros(self._shape(value_states))

    def _shape(self, states: torch.Tensor) -> tuple:
        return self.rows, states.shape[1], self.capacity, states.shape[-1]

    def reserve(self, columns: int) -> None:
        """Make room for `columns` more columns (reallocating with headroom when full)."""
        if self.length + columns > self.capacity:
            self._resize(torch.arange(self.rows, device=self.valid.device), self.length + columns + HEADROOM)

    def step_mask(self, attn_impl: Optional[str], dtype: torch.dtype) -> torch.Tensor:
        """The attention mask for one decode token: for SDPA and eager attention an additive [rows, 1, 1, kv] mask
        (used as is, and the fastest for SDPA on CPU), else the 2-D padding mask that transformers expands."""
        valid = self.valid[:, :self.length + 1]
        if attn_impl not in ('sdpa', 'eager', DECODE_SDPA):
            return valid.long()
        mask = torch.zeros(valid.shape[0], 1, 1, valid.shape[1], dtype=dtype, device=valid.device)
        return mask.masked_fill_(~valid[:, None, None, :], torch.finfo(dtype).min)

    def select(self, keep: torch.Tensor) -> None:
        """Keep only the rows at `keep`, dropping the leading columns none of them uses."""
        self._resize(keep, self.capacity)

    def _resize(self, keep: torch.Tensor, capacity: int) -> None:
        valid = self.valid[keep, :self.length]
        used = valid.any(0).nonzero()
        start = int(used[0]) if len(used) else self.length
        width = self.length - start
        capacity = max(capacity - start, width + 1)
        self.rows = len(keep)
        for store in (self.keys, self.values):
            for i, old in enumerate(store):
                if old is not None:
                    new = old.new_zeros(self._shape(old)[:2] + (capacity, old.shape[-1]))
                    new[:, :, :width] = old[keep, :, start:self.length]
                    store[i] = new
        self.valid = self.valid.new_zeros(self.rows, capacity)
        self.valid[:, :width] = valid[:, start:]
        self.capacity, self.length = capacity, width


def merge(a: SlotCache, b: SlotCache) -> SlotCache:
    """The rows of `a` then those of `b`, right-aligned at the longer length (the shorter one gets masked columns
    on the left), with headroom for decoding."""
    length = max(a.length, b.length)
    out = SlotCache(len(a.keys), a.rows + b.rows, length + HEADROOM, a.valid.device)
    out.length = length
    for part, rows in ((a, slice(0, a.rows)), (b, slice(a.rows, a.rows + b.rows))):
        start = length - part.length
        out.valid[rows, start:length] = part.valid[:, :part.length]
        for store, src in ((out.keys, part.keys), (out.values, part.values)):
            for i, old in enumerate(src):
                if store[i] is None:
                    store[i] = old.new_zeros(out._shape(old))
                store[i][rows, :, start:length] = old[:, :, :part.length]
    return out
