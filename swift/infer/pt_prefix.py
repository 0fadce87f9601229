"""Prefix caching for the pt engine: the KV of a prompt prefix shared by many requests (typically the template's
system prompt) is computed once per adapter and copied into each new batch instead of being prefilled again.

A prefix's keys/values depend only on its tokens, their positions (0..p-1, as every row's positions start at its
first real token) and the adapter, so they are the same for every row whatever its padding.
"""
from collections import OrderedDict, deque
from typing import List, Sequence, Tuple

import torch
from transformers import DynamicCache

MIN_PREFIX = 8  # shorter shared prefixes are not worth a cache entry
MAX_PREFIX = 1024
MAX_ENTRIES = 8


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class PrefixStore:
    """LRU of (adapter, prefix ids) -> per-layer (keys, values) [1, heads, p, dim]; new prefixes are found as the
    longest prefix a group of prompts shares, with each other or with recently seen prompts."""

    def __init__(self):
        self.entries: 'OrderedDict[tuple, List[Tuple[torch.Tensor, torch.Tensor]]]' = OrderedDict()
        self.recent = deque(maxlen=16)

    def clear(self) -> None:
        # new objects rather than clearing in place: a lookup may be iterating the old ones in the engine thread
        self.entries, self.recent = OrderedDict(), deque(maxlen=self.recent.maxlen)

    def lookup(self, model, adapter, prompts: List[List[int]]):
        """(p, kv) for the longest usable prefix of all `prompts`, computing and storing it when new; or None.
        Every prompt keeps at least one token outside the prefix (its logits start the generation)."""
        limit = min(min(len(p) for p in prompts) - 1, MAX_PREFIX)
        best = self._stored(adapter, prompts, limit)
        shared = min(self._shared(adapter, prompts), limit)
        if shared >= (best[0] if best else 0) + MIN_PREFIX:  # a new (or much longer) shared prefix
            best = self._add(model, adapter, prompts[0][:shared])
        self.recent.extend((adapter, tuple(p)) for p in prompts[-self.recent.maxlen:])
        return best

    def _stored(self, adapter, prompts, limit: int):
        best, entries = None, self.entries
        for key in entries:
            p = len(key[1])
            if key[0] == adapter and p <= limit and (best is None or p > len(best[1])) and all(
                    tuple(ids[:p]) == key[1] for ids in prompts):
                best = key
        if best is None:
            return None
        entries.move_to_end(best)
        return len(best[1]), entries[best]

    def _shared(self, adapter, prompts) -> int:
        """The prefix the prompts share with each other, or a single prompt with a recent one."""
        first = prompts[0]
        if len(prompts) > 1:
            return min(common_prefix(first, ids) for ids in prompts[1:])
        return max((common_prefix(first, ids) for a, ids in self.recent if a == adapter), default=0)

    def _add(self, model, adapter, ids: List[int]):
        kv = _prefix_kv(model, ids)
        entries = self.entries
        entries[(adapter, tuple(ids))] = kv
        while len(entries) > MAX_ENTRIES:
            entries.popitem(last=False)
        return len(ids), kv


def _prefix_kv(model, ids: List[int]) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    device = next(model.parameters()).device
    cache = DynamicCache(config=model.config)
    model(input_ids=torch.tensor([ids], device=device), past_key_values=cache, use_cache=True, logits_to_keep=1)
    return [(layer.keys, layer.values) for layer in cache.layers]


def place_prefix(cache, kv, lengths: List[int], start: int, width: int) -> None:
    """Fill the columns left of `start` with the prefix KV each row needs: a row of prompt length L, right-aligned
    at `width`, holds prefix positions [0, L - (width - start)) just left of column `start`."""
    suffix = width - start
    for index, (keys, values) in enumerate(kv):
        if cache.keys[index] is None:
            cache.allocate(index, keys, values)
        for row, length in enumerate(lengths):
            n = max(0, length - suffix)
            if n:
                cache.keys[index][row, :, start - n:start] = keys[0, :, :n]
                cache.values[index][row, :, start - n:start] = values[0, :, :n]
