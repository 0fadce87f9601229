"""Packing (`--packing`, `--neat_packing`): several encoded samples share one row, without attending to each other.

Samples are bin-packed first-fit-decreasing into packs of at most `max_length` tokens. The collator is
padding-free: a pack is one row whose `position_ids` restart at 0 for every sample and no `attention_mask` is
passed. transformers (>= 5) then derives the per-sample (block-diagonal causal) attention from `position_ids`
for eager, sdpa, flex and flash attention alike (`masking_utils.find_packed_sequence_indices`), so no sample
ever sees another one; LLaMA-Factory's `neat_packing` is therefore the same thing here.
"""
import random
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

import torch
from torch.utils.data import Dataset, IterableDataset

from swift.utils import get_logger, pad_token_id

logger = get_logger()
DEFAULT_PACKING_LENGTH = 2048


class _MaxTree:
    """Segment tree over bin capacities: the leftmost bin with room for `size` in O(log n)."""

    def __init__(self, n: int, capacity: int):
        self.size = 1
        while self.size < n:
            self.size *= 2
        self.tree = [0] * (2 * self.size)
        for i in range(n):
            self.tree[self.size + i] = capacity
        for i in range(self.size - 1, 0, -1):
            self.tree[i] = max(self.tree[2 * i], self.tree[2 * i + 1])

    def first_fit(self, size: int) -> int:
        node = 1
        while node < self.size:
            node = 2 * node if self.tree[2 * node] >= size else 2 * node + 1
        return node - self.size

    def take(self, index: int, size: int) -> None:
        node = self.size + index
        self.tree[node] -= size
        node //= 2
        while node:
            self.tree[node] = max(self.tree[2 * node], self.tree[2 * node + 1])
            node //= 2


def pack_lengths(lengths: Sequence[int], max_length: int) -> List[List[int]]:
    """First-fit-decreasing bin packing: lists of sample indices whose lengths sum to at most `max_length`.

    A sample longer than `max_length` gets a pack of its own (the template's truncation is what limits it).
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    tree = _MaxTree(len(lengths), max_length)
    bins: List[List[int]] = []
    oversized = []
    for i in order:
        size = lengths[i]
        if size > max_length:
            oversized.append([i])
            continue
        index = tree.first_fit(size)
        tree.take(index, size)
        if index == len(bins):
            bins.append([])
        bins[index].append(i)
    if oversized:
        logger.warning(f'packing: {len(oversized)} samples are longer than the packing length {max_length}; '
                       'each is trained as a pack of its own.')
    return oversized + bins


def _lengths(dataset) -> List[int]:
    column_names = getattr(dataset, 'column_names', None) or []
    if 'length' in column_names:
        return list(dataset['length'])
    return [len(dataset[i]['input_ids']) for i in range(len(dataset))]


class PackedDataset(Dataset):
    """A map-style dataset of packs (lists of encoded rows) built from an encoded dataset."""

    def __init__(self, dataset, max_length: int):
        self.dataset = dataset
        self.max_length = max_length
        lengths = _lengths(dataset)
        self.packs = pack_lengths(lengths, max_length)
        filled = sum(lengths) / max(1, len(self.packs) * max_length)
        logger.info(f'packing: {len(lengths)} samples -> {len(self.packs)} packs of <= {max_length} tokens '
                    f'({filled:.1%} filled)')

    def __len__(self) -> int:
        return len(self.packs)

    def __getitem__(self, index: int) -> List[Dict[str, Any]]:
        return [self.dataset[i] for i in self.packs[index]]


class IterablePackedDataset(IterableDataset):
    """Packing for streamed datasets: packs each buffer of `buffer_size` samples first-fit-decreasing."""

    def __init__(self, dataset: Iterable, max_length: int, buffer_size: int = 1000, seed: Optional[int] = None):
        self.dataset = dataset
        self.max_length = max_length
        self.buffer_size = buffer_size
        self.seed = seed

    def _flush(self, buffer: List[dict]) -> Iterator[List[dict]]:
        packs = pack_lengths([len(row['input_ids']) for row in buffer], self.max_length)
        random.Random(self.seed).shuffle(packs)  # else every buffer starts with its longest samples
        for pack in packs:
            yield [buffer[i] for i in pack]

    def __iter__(self) -> Iterator[List[dict]]:
        buffer: List[dict] = []
        for row in self.dataset:
            buffer.append(row)
            if len(buffer) >= self.buffer_size:
                yield from self._flush(buffer)
                buffer = []
        if buffer:
            yield from self._flush(buffer)


def packing_length(args_max_length: Optional[int], template) -> int:
    return args_max_length or getattr(template, 'max_length', None) or DEFAULT_PACKING_LENGTH


class PackingCollator:
    """Padding-free collation of packs: one row per pack, `position_ids` restarting per sample, no attention mask.

    Labels get -100 on each sample's first token, so no sample is trained to predict the start of the next one.
    The batch also carries `num_tokens` (real tokens, without padding); the trainer pops it before the forward.
    Multimodal samples: their media tensors are concatenated in pack order, and a model with 3D (M-RoPE)
    positions (Qwen2-VL) gets position_ids of shape (4, batch, length): the text positions that delimit the
    samples, then each sample's own 3D positions (`template.packed_position_ids`), as transformers expects.
    """

    def __init__(self, pad_token_id: int, template=None):
        self.pad_token_id = pad_token_id
        self.template = template

    @classmethod
    def from_template(cls, template) -> 'PackingCollator':
        return cls(pad_token_id(template.tokenizer), template)

    def _positions_3d(self, sample: Dict[str, Any]) -> Optional[List[List[int]]]:
        fn = getattr(self.template, 'packed_position_ids', None)
        return fn(sample) if fn is not None else None

    def _concat(self, pack: List[Dict[str, Any]], with_scale: bool) -> Dict[str, List]:
        row = {'input_ids': [], 'labels': [], 'position_ids': [], 'loss_scale': [], 'rope': [[], [], []],
               'has_rope': False}
        for sample in pack:
            ids, labels = list(sample['input_ids']), list(sample['labels'])
            labels[0] = -100
            row['input_ids'] += ids
            row['labels'] += labels
            row['position_ids'] += range(len(ids))
            rope = self._positions_3d(sample)
            row['has_rope'] |= rope is not None
            for axis in range(3):
                row['rope'][axis] += rope[axis] if rope is not None else range(len(ids))
            if with_scale:
                scale = sample.get('loss_scale')
                row['loss_scale'] += scale if scale is not None else [float(x != -100) for x in sample['labels']]
        return row

    def __call__(self, batch: List[List[Dict[str, Any]]]) -> Dict[str, torch.Tensor]:
        """input_ids/labels/position_ids (+ loss_scale, + media) of one padding-free row per pack."""
        with_scale = any(s.get('loss_scale') is not None for pack in batch for s in pack)
        rows = [self._concat(pack, with_scale) for pack in batch]
        width = max(len(r['input_ids']) for r in rows)
        pads = {'input_ids': self.pad_token_id, 'labels': -100, 'loss_scale': 0.}
        keys = ['input_ids', 'labels', 'position_ids'] + (['loss_scale'] if with_scale else [])
        out = {}
        for key in keys:
            padded = []
            for r in rows:
                n = width - len(r['input_ids'])
                # Padding continues as a sequence of its own: it neither sees nor is seen by a real sample.
                tail = list(range(n)) if key == 'position_ids' else [pads[key]] * n
                padded.append(r[key] + tail)
            out[key] = torch.tensor(padded, dtype=torch.float32 if key == 'loss_scale' else torch.long)
        if any(r['has_rope'] for r in rows):
            rope = [[r['rope'][axis] + list(range(width - len(r['input_ids']))) for r in rows] for axis in range(3)]
            out['position_ids'] = torch.cat([out['position_ids'][None], torch.tensor(rope, dtype=torch.long)])
        from .multimodal import collate_media
        collate_media([s for pack in batch for s in pack], out, 'right', with_types=False)
        out['num_tokens'] = sum(len(r['input_ids']) for r in rows)
        return out


class PaddingFreeCollator:
    """`--padding_free`: each batch of encoded rows becomes one row without padding (ms-swift's padding_free), the
    packs of PackingCollator made per batch: position_ids restart per sample, so each keeps its own attention and
    the batch's loss equals the padded batch's."""

    def __init__(self, packing: PackingCollator):
        self.packing = packing

    @classmethod
    def from_template(cls, template) -> 'PaddingFreeCollator':
        return cls(PackingCollator.from_template(template))

    def __call__(self, batch: List[Dict[str, Any]]) -> Dict[str, torch.Tensor]:
        return self.packing([batch])
