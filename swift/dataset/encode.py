"""encode_dataset: canonical rows -> token ids with the template; unusable rows are dropped and counted.

One loop for every training command: `swift sft/pt` encode a row into input_ids/labels, `swift rlhf` passes an
algorithm-specific row encoder (swift/template/rlhf.py) that may turn one row into several encoded rows.
"""
import contextlib
import gc
import itertools
import os
import random
import tempfile
from array import array
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, MutableSequence, Optional, Sequence, Tuple

import datasets as hf_datasets
import numpy as np
import torch

from swift.utils import DatasetError, TemplateError

from .report import ORIGIN, DropReport, origin_of, origin_text
from .shards import ShardWriter, load_shards, shard_dir

ENCODED_COLUMNS = ('input_ids', 'labels', 'loss_scale', 'length')
# What a multimodal template adds (swift/template/multimodal.py), kept when present.
MEDIA_COLUMNS = ('pixel_values', 'image_grid_thw', 'pixel_values_videos', 'video_grid_thw', 'second_per_grid_ts',
                 'mm_token_type_ids')
_MAX_RETRIES = 100
_BATCH_ROWS = 256  # rows per batched tokenizer call
# row -> encoded rows; each may carry 'length' (the tokens it costs, for statistics, packing and grouping)
RowEncoder = Callable[[Dict[str, Any]], List[Dict[str, Any]]]


class NoSupervisedTokensError(TemplateError):
    pass


def _columns(encoded: Dict[str, Any]):
    """[the encoded row's columns], or the error of a row with no supervised token (e.g. the prompt alone
    fills --max_length under --truncation_strategy right): it would train on nothing."""
    labels = encoded.get('labels')
    if labels is not None and labels.count(-100) == len(labels):
        return NoSupervisedTokensError('no supervised token left after truncation: the row would train on nothing '
                                       '(raise --max_length or use --truncation_strategy left)')
    out = {k: encoded.get(k) for k in ENCODED_COLUMNS}
    out.update({k: encoded[k] for k in MEDIA_COLUMNS if encoded.get(k) is not None})
    if out['length'] is None:
        out['length'] = len(out['input_ids'])
    return [out]


def sft_encoder(template) -> RowEncoder:
    """input_ids/labels/loss_scale/length of a row, as `Template.encode` gives them. `encoder.batch(rows)` encodes
    many rows with one tokenizer call (the same tokens; a TemplateError in place of a row it cannot use)."""

    def encode(row):
        out = _columns(template.encode(row))
        if isinstance(out, TemplateError):
            raise out
        return out

    def batch(rows):
        return [e if isinstance(e, TemplateError) else _columns(e) for e in template.encode_batch(rows)]
    encode.batch = batch
    if not getattr(template, 'is_multimodal', False):  # media columns vary per row: those rows stay in memory
        encode.columns = ENCODED_COLUMNS  # fixed columns: streamed to Arrow shards (swift/dataset/shards.py)
    return encode


def encoded_length(out: Dict[str, Any]) -> int:
    """'length' when the encoder gives one, else the tokens of every *_ids / input_ids column."""
    if out.get('length') is not None:
        return int(out['length'])
    return sum(len(v) for k, v in out.items() if k.endswith('ids') and isinstance(v, list))


@dataclass
class EncodeStats:
    """Counts of an encoding pass; `sources` holds the dropped rows per file (and line) for rows that carry their
    ORIGIN (loaded with origins=True), the others are counted by reason only."""
    rows_in: int = 0
    rows_kept: int = 0
    dropped: Dict[str, int] = field(default_factory=dict)
    lengths: MutableSequence[int] = field(default_factory=lambda: array('i'), repr=False)  # 4 bytes a row
    sources: Dict[str, DropReport] = field(default_factory=dict, repr=False)

    def add(self, length: int) -> None:
        self.rows_kept += 1
        self.lengths.append(length)

    def drop(self, reason: str, origin: Optional[int] = None) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        if origin is not None:
            source, kind, loc = origin_of(origin)
            report = self.sources.get(source) or self.sources.setdefault(source, DropReport(source, kind))
            report.drop(loc, reason)

    def merge(self, other: 'EncodeStats') -> None:
        self.rows_in += other.rows_in
        self.rows_kept += other.rows_kept
        self.lengths.extend(other.lengths)
        for reason, n in other.dropped.items():
            self.dropped[reason] = self.dropped.get(reason, 0) + n
        for source, report in other.sources.items():
            self.sources.setdefault(source, DropReport(source, report.loc_kind)).merge(report)

    def length_summary(self) -> Dict[str, float]:
        """Token length min/mean/p50/p90/p99/max of the kept rows ({} when none)."""
        if not self.lengths:
            return {}
        values = np.asarray(self.lengths)
        summary = {'min': int(values.min()), 'mean': round(float(values.mean()), 1)}
        summary.update({f'p{q}': int(np.percentile(values, q)) for q in (50, 90, 99)})
        summary['max'] = int(values.max())
        return summary

    def __str__(self) -> str:
        n_dropped = sum(self.dropped.values())
        text = f'encoded {self.rows_kept}/{self.rows_in} rows, dropped {n_dropped}'
        if self.dropped:
            text += ' (' + ', '.join(f'{r}: {n}' for r, n in self.dropped.items()) + ')'
        for source, report in self.sources.items():  # e.g. 'data.jsonl: dropped 1 (longer than ...: 1 [line 7])'
            text += f'\n{source}: {report.drops_text()}'
        lengths = ', '.join(f'{k} {v}' for k, v in self.length_summary().items())
        return f'{text}\ntoken lengths: {lengths or "no rows"}'


def drop_reason(error: TemplateError) -> str:
    if getattr(error, 'reason', None):  # ImageError: missing / unreadable / remote image, tag count mismatch
        return error.reason
    if type(error).__name__ == 'MaxLengthError':
        return 'longer than max_length'
    if isinstance(error, NoSupervisedTokensError):
        return 'no supervised token after truncation'
    return f'template error: {str(error)[:60]}'


def encode_row(encoder: RowEncoder, row: Dict[str, Any], stats: EncodeStats, strict: bool, position: int,
               keep_length: bool = True, origin: Optional[int] = None) -> List[dict]:
    """The encoded rows, or [] (counted in `stats`) when the template cannot use the row. A bad row is named by
    its `origin` (file and line, see report.ORIGIN) or else its 1-based `position`. Without `keep_length` the
    'length' key only feeds the statistics (trl's collators read the algorithm's own columns)."""
    try:
        outs = encoder(row)
    except TemplateError as error:
        if strict:
            raise DatasetError(f'{origin_text(origin, position)}: {error} (run without --strict to drop and count '
                               'such rows)') from error
        stats.drop(drop_reason(error), origin)
        return []
    for out in outs:
        stats.add(encoded_length(out))
        if not keep_length:
            out.pop('length', None)
    return outs


def _plain(value):
    return value.tolist() if isinstance(value, torch.Tensor) else value


def _to_dataset(rows: List[dict]) -> hf_datasets.Dataset:
    keys = dict.fromkeys(k for r in rows for k in r)  # media columns exist only on rows with images
    columns = {k: [_plain(r.get(k)) for r in rows] for k in keys}
    if 'loss_scale' in columns and all(v is None for v in columns['loss_scale']):
        del columns['loss_scale']  # templates without loss_scale: no all-null column
    return hf_datasets.Dataset.from_dict(columns)


def _encode_streaming(dataset: hf_datasets.IterableDataset, encoder: RowEncoder, strict: bool, keep_length: bool):
    stats = EncodeStats()  # filled while the stream is consumed

    def generate():
        for index, row in enumerate(dataset, 1):
            stats.rows_in += 1
            origin = row.pop(ORIGIN, None)  # (a fresh dict per row)
            yield from encode_row(encoder, row, stats, strict, index, keep_length, origin)
    return hf_datasets.IterableDataset.from_generator(generate), stats


def encode_dataset(dataset, template, *, num_proc: int = 1, strict: bool = False, lazy: bool = False,
                   encoder: Optional[RowEncoder] = None, keep_length: bool = True) -> Tuple[Any, EncodeStats]:
    """(encoded, stats). `encoder` (default: `sft_encoder(template)`) turns one canonical row into encoded rows.
    `lazy` returns a torch Dataset that encodes on access; a streaming input gives a stream whose stats fill as
    it is read."""
    encoder = encoder or sft_encoder(template)
    if lazy:
        encoded = LazyEncodedDataset(dataset, encoder, strict=strict)
        return encoded, encoded.stats
    if isinstance(dataset, hf_datasets.IterableDataset):
        return _encode_streaming(dataset, encoder, strict, keep_length)
    from .parallel import map_chunks
    state = {'dataset': dataset, 'encoder': encoder, 'strict': strict, 'keep_length': keep_length}
    if getattr(encoder, 'columns', None):
        state['dir'] = tempfile.mkdtemp(dir=shard_dir())
    results = map_chunks(range(len(dataset)), _encode_chunk, num_proc, state)  # (a range: no list per row)
    stats = EncodeStats()
    for _, chunk_stats in results:
        stats.merge(chunk_stats)
    if not stats.rows_kept:
        raise DatasetError(f'No row could be encoded: {stats}'.replace('\n', '; '))
    if 'dir' in state:
        return load_shards([out for out, _ in results]), stats
    return _to_dataset([row for rows, _ in results for row in rows]), stats


class _Rows(list):
    """Encoded rows kept in memory (encoders whose columns are not fixed)."""
    add = list.append

    def close(self):
        return self


def _encode_chunk(indices: Sequence[int], state: Dict[str, Any]) -> Tuple[Any, EncodeStats]:
    """(shard or rows, stats) of the rows at `indices`; sft/pt rows go to an Arrow shard as they are encoded."""
    stats, encoder = EncodeStats(rows_in=len(indices)), state['encoder']
    dataset, strict, keep_length = state['dataset'], state['strict'], state['keep_length']
    out = _Rows()
    if 'dir' in state:
        columns = [c for c in encoder.columns if keep_length or c != 'length']
        out = ShardWriter(os.path.join(state['dir'], f'{indices[0]:012d}.arrow'), columns)
    batch = getattr(encoder, 'batch', None)
    for start in range(0, len(indices), _BATCH_ROWS):
        part = indices[start:start + _BATCH_ROWS]
        with _gc_paused():
            rows, origins = _rows(dataset, part)
            row_encoders = map(_given, batch(rows)) if batch else itertools.repeat(encoder)
            for index, row, row_encoder, origin in zip(part, rows, row_encoders, origins):
                for encoded in encode_row(row_encoder, row, stats, strict, index + 1, keep_length, origin):
                    out.add(encoded)
    return out.close(), stats


@contextlib.contextmanager
def _gc_paused():
    """No cyclic GC inside one batch: encoding allocates many small acyclic objects, and each collection would
    walk every live object (the pre-token cache included); the collector runs again between batches."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _rows(dataset, indices: Sequence[int]) -> Tuple[List[Dict[str, Any]], List[Optional[int]]]:
    """(the rows at `indices` without their ORIGIN, their ORIGIN values or Nones); a contiguous range is read as
    one column slice (far faster than row by row)."""
    contiguous = indices.step == 1 if isinstance(indices, range) else \
        list(indices) == list(range(indices[0], indices[-1] + 1))
    if not contiguous or not isinstance(dataset, hf_datasets.Dataset):
        rows = [dataset[i] for i in indices]
        return rows, [row.pop(ORIGIN, None) for row in rows]
    columns = dataset[indices[0]:indices[-1] + 1]
    origins = columns.pop(ORIGIN, None) or [None] * len(indices)
    return [dict(zip(columns, values)) for values in zip(*columns.values())], origins


def _given(result) -> RowEncoder:
    """A row encoder returning (or raising) a result computed in a batch, so encode_row handles it as usual."""

    def encoder(_row):
        if isinstance(result, TemplateError):
            raise result
        return result
    return encoder


class LazyEncodedDataset(torch.utils.data.Dataset):
    """Encodes on __getitem__ (one encoded row per row); a row the template cannot use is counted and a random
    other row is returned."""

    def __init__(self, dataset, encoder: RowEncoder, *, strict: bool = False, seed: int = 42):
        self.dataset, self.encoder, self.strict = dataset, encoder, strict
        self.stats = EncodeStats(rows_in=len(dataset), rows_kept=len(dataset))  # until a row fails
        self._rng = random.Random(seed)
        self._dropped_indices = set()

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict:
        for _ in range(_MAX_RETRIES):
            stats, row = EncodeStats(), dict(self.dataset[index])
            origin = row.pop(ORIGIN, None)
            outs = encode_row(self.encoder, row, stats, self.strict, index + 1, origin=origin)
            if outs:
                self.stats.lengths.append(encoded_length(outs[0]))
                return outs[0]
            if index not in self._dropped_indices:  # count each bad row once, however often it is drawn
                self._dropped_indices.add(index)
                self.stats.merge(stats)
                self.stats.rows_kept -= 1
            index = self._rng.randrange(len(self.dataset))
        raise DatasetError(f'{_MAX_RETRIES} rows in a row could not be encoded: {self.stats}'.replace('\n', '; '))
