"""Mixing several `--dataset` entries into one: concatenation or `datasets.interleave_datasets`.

One vocabulary for both references: LLaMA-Factory's `mix_strategy` (concat | interleave_under | interleave_over,
with `interleave_probs`); ms-swift's `--interleave_prob` + `--stopping_strategy` map onto it
(first_exhausted = interleave_under, all_exhausted = interleave_over).
"""
from typing import List, Optional, Sequence, Union

import datasets as hf_datasets
import numpy as np

from swift.utils import DatasetError, get_logger

from .arrow import concatenate

AnyDataset = Union[hf_datasets.Dataset, hf_datasets.IterableDataset]
MIX_STRATEGIES = ('concat', 'interleave_under', 'interleave_over')
STOPPING = {'interleave_under': 'first_exhausted', 'interleave_over': 'all_exhausted'}
_SOURCE = '__swift_source'
logger = get_logger()


def check_probs(probs: Optional[Sequence[float]], n_datasets: int, flag: str = '--interleave_prob') -> None:
    if probs is None:
        return
    if len(probs) != n_datasets:
        raise DatasetError(f'{flag} has {len(probs)} values for {n_datasets} datasets: give one probability per '
                           '--dataset entry.')
    if any(p < 0 for p in probs) or abs(sum(probs) - 1) > 1e-6:
        raise DatasetError(f'{flag} {" ".join(map(str, probs))}: probabilities must be >= 0 and sum to 1.')


def _aligned(parts: List[AnyDataset]) -> List[AnyDataset]:
    """interleave_datasets needs one schema: concatenate's alignment (tool fields) applied part by part."""
    if all(isinstance(p, hf_datasets.Dataset) for p in parts) and len({str(p.features) for p in parts}) > 1:
        whole = concatenate(parts)
        bounds = np.cumsum([0] + [len(p) for p in parts])
        return [whole.select(range(int(a), int(b))) for a, b in zip(bounds[:-1], bounds[1:])]
    return parts


def mix_datasets(parts: List[AnyDataset], names: List[str], strategy: str = 'concat',
                 probs: Optional[Sequence[float]] = None, seed: int = 42, split: str = 'train') -> AnyDataset:
    """One dataset from `parts` (one per `--dataset` entry, already sampled); logs the rows each entry contributed."""
    if strategy not in MIX_STRATEGIES:
        raise DatasetError(f'mix strategy {strategy!r} is unknown: choose {", ".join(MIX_STRATEGIES)}.')
    if len(parts) == 1:
        return parts[0]  # its loader already logged how many rows it kept
    if strategy == 'concat':
        _log_counts(split, names, parts, [_size(p) for p in parts], 'concat')
        return concatenate(parts)
    check_probs(probs, len(parts))
    kwargs = dict(probabilities=list(probs) if probs is not None else None, seed=seed,
                  stopping_strategy=STOPPING[strategy])
    parts = _aligned(parts)
    if any(isinstance(p, hf_datasets.IterableDataset) for p in parts):
        _log_counts(split, names, parts, [None] * len(parts), f'{strategy} (streamed: counted while iterating)')
        return hf_datasets.interleave_datasets(parts, **kwargs)
    if any(len(p) == 0 for p in parts):
        raise DatasetError(f'{split} dataset: an empty entry cannot be interleaved (it would stop or never end the '
                           'mix); drop it or use --mix_strategy concat.')
    tagged = [p.add_column(_SOURCE, [i] * len(p)) for i, p in enumerate(parts)]
    mixed = hf_datasets.interleave_datasets(tagged, **kwargs)
    counts = np.bincount(np.asarray(mixed[_SOURCE], dtype=np.int64), minlength=len(parts)).tolist()
    _log_counts(split, names, parts, counts, strategy)
    return mixed.remove_columns(_SOURCE)


def _size(dataset: AnyDataset) -> Optional[int]:
    return len(dataset) if isinstance(dataset, hf_datasets.Dataset) else None


def mix_summary(names: List[str], sizes: List[Optional[int]], counts: List[Optional[int]]) -> str:
    total = sum(c for c in counts if c is not None)
    lines = []
    for name, size, count in zip(names, sizes, counts):
        if count is None:
            lines.append(f'{name}: streamed')
            continue
        share = f'{100 * count / total:.1f}%' if total else '-'
        lines.append(f'{name}: {count} rows ({share}' + (f', from {size} sampled rows)' if size != count else ')'))
    return '; '.join(lines) + (f'; total {total}' if len(names) > 1 and all(c is not None for c in counts) else '')


def _log_counts(split: str, names, parts, counts, how: str) -> None:
    logger.info(f'{split} dataset mix [{how}]: {mix_summary(names, [_size(p) for p in parts], counts)}')
