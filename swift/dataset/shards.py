"""Encoded sft/pt rows streamed to Arrow files a batch at a time: encoding holds one batch in memory, and the
encoded dataset is memory-mapped from the files (as `datasets` does with its own cache files).

The files live in one temporary folder per process (under TMPDIR), removed when the process exits. The schema is
what `Dataset.from_dict` gave the same rows: input_ids int32 (datasets' choice for that column), labels int64,
loss_scale float64 (dropped when no row has one), length int64.
"""
import atexit
import os
import shutil
import tempfile
from itertools import chain
from typing import Any, Dict, List, Optional

import datasets as hf_datasets
import numpy as np
import pyarrow as pa

FEATURES = hf_datasets.Features({
    'input_ids': hf_datasets.List(hf_datasets.Value('int32')),
    'labels': hf_datasets.List(hf_datasets.Value('int64')),
    'loss_scale': hf_datasets.List(hf_datasets.Value('float64')),
    'length': hf_datasets.Value('int64'),
})
_FLUSH_ROWS = 1000
_DIR: List[str] = []


def shard_dir() -> str:
    """This process's folder for encoded shards (created on first use, removed at exit)."""
    if not _DIR:
        _DIR.append(tempfile.mkdtemp(prefix=f'swift-encoded-{os.getpid()}-'))
        atexit.register(shutil.rmtree, _DIR[0], True)
    return _DIR[0]


def _list_array(values: List[Optional[list]], value_type) -> pa.Array:
    """A list<value_type> array built from one flat buffer (pyarrow's nested-list conversion is ~10x slower)."""
    lengths = np.fromiter((0 if v is None else len(v) for v in values), dtype=np.int32, count=len(values))
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    flat = pa.array(list(chain.from_iterable(v for v in values if v is not None)), value_type)
    mask = None
    if any(v is None for v in values):
        mask = pa.array([v is None for v in values])
    return pa.ListArray.from_arrays(pa.array(offsets), flat, mask=mask)


class ShardWriter:
    """`add(row)` encoded rows with the FEATURES columns (a subset: without 'length' when it is not kept);
    `close()` -> (path, rows written, whether any row had a loss_scale)."""

    def __init__(self, path: str, columns: List[str]):
        self.path, self.columns = path, columns
        features = hf_datasets.Features({k: FEATURES[k] for k in columns})
        self.schema = features.arrow_schema
        self._sink = pa.OSFile(path, 'wb')
        self._writer = pa.ipc.new_stream(self._sink, self.schema)
        self._rows: List[Dict[str, Any]] = []
        self.n_rows, self.has_loss_scale = 0, False

    def add(self, row: Dict[str, Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= _FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._rows:
            return
        arrays = []
        for field in self.schema:
            values = [r.get(field.name) for r in self._rows]
            if field.name == 'loss_scale':
                self.has_loss_scale = self.has_loss_scale or any(v is not None for v in values)
            if pa.types.is_list(field.type):
                arrays.append(_list_array(values, field.type.value_type))
            else:
                arrays.append(pa.array(values, field.type))
        self._writer.write_batch(pa.record_batch(arrays, schema=self.schema))
        self.n_rows += len(self._rows)
        self._rows = []

    def close(self):
        self._flush()
        self._writer.close()
        self._sink.close()
        return self.path, self.n_rows, self.has_loss_scale


def load_shards(results: List[tuple]) -> hf_datasets.Dataset:
    """One memory-mapped dataset over the written shards, in order; loss_scale dropped when no row had one."""
    parts = [hf_datasets.Dataset.from_file(path) for path, n_rows, _ in results if n_rows]
    dataset = parts[0] if len(parts) == 1 else hf_datasets.concatenate_datasets(parts)
    if 'loss_scale' in dataset.column_names and not any(has for _, _, has in results):
        dataset = dataset.remove_columns('loss_scale')
    return dataset
