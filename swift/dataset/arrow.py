"""Canonical rows -> datasets.Dataset with one uniform schema (so map/concatenate work across formats)."""
import json
import os
import tempfile
from typing import Any, Dict, List

import datasets
import pyarrow as pa

from swift.utils import get_logger

_CANONICAL = ('messages', 'rejected_response', 'label', 'tools')


def _json_text(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _uniform_column(name: str, values: List[Any]) -> List[Any]:
    """An extra column whose rows mix types (e.g. str and int) becomes JSON text, which Arrow can store."""
    types = {type(v) for v in values if v is not None}
    if len(types) <= 1 or name in _CANONICAL or types <= {int, float}:
        return values
    get_logger().warning(f'column {name!r} mixes {sorted(t.__name__ for t in types)}; storing it as JSON text')
    return [_json_text(v) for v in values]


def rows_to_dataset(rows: List[Dict[str, Any]]) -> datasets.Dataset:
    keys: Dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    columns = {k: _uniform_column(k, [row.get(k) for row in rows]) for k in keys}
    return datasets.Dataset.from_dict(columns)


def _message_fields(dataset) -> set:
    feature = (dataset.features or {}).get('messages')  # a stream built from a generator has no features
    inner = getattr(feature, 'feature', None)
    if isinstance(feature, list) and feature:
        inner = feature[0]
    return set(inner) if isinstance(inner, dict) else set()


def concatenate(parts: List[datasets.Dataset]) -> datasets.Dataset:
    """concatenate_datasets, after giving every part the tool fields of messages when some part has them (a
    tool-calling file next to a plain chat file)."""
    from .messages import TOOL_FIELDS
    if len(parts) == 1:
        return parts[0]
    if any(set(TOOL_FIELDS) <= _message_fields(p) for p in parts):
        string = datasets.Value('string')
        message = datasets.List({'role': string, 'content': string, **{k: string for k in TOOL_FIELDS}})
        parts = [p.cast(datasets.Features({**p.features, 'messages': message})) for p in parts]
    return datasets.concatenate_datasets(parts)


CHUNK_ROWS = 20_000  # canonical rows turned into Arrow at a time by ArrowChunks


class ArrowChunks:
    """The canonical rows of one source, `add`ed a chunk at a time, so a large file never sits in memory as Python
    objects: a source of one chunk stays in memory as before; from the second chunk on, each chunk is written to
    an Arrow file (the encoder's shard folder, removed at exit) and memory-mapped."""

    def __init__(self):
        self.parts: List[datasets.Dataset] = []

    def add(self, rows: List[Dict[str, Any]]) -> None:
        if not rows:
            return
        self.parts.append(rows_to_dataset(rows))
        if len(self.parts) == 2:
            self.parts[0] = _spill(self.parts[0])
        if len(self.parts) >= 2:
            self.parts[-1] = _spill(self.parts[-1])

    def dataset(self) -> datasets.Dataset:
        if len(self.parts) <= 1:
            return self.parts[0] if self.parts else rows_to_dataset([])
        try:  # datasets aligns missing columns and all-null chunks; concatenate aligns the tool fields
            return concatenate(self.parts)
        except ValueError:  # a column whose type differs between chunks: convert all rows at once, as before
            return rows_to_dataset([row for part in self.parts for row in part])


def _spill(dataset: datasets.Dataset) -> datasets.Dataset:
    from .shards import shard_dir
    fd, path = tempfile.mkstemp(prefix='rows-', suffix='.arrow', dir=shard_dir())
    os.close(fd)
    table = dataset.data.table
    with pa.OSFile(path, 'wb') as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return datasets.Dataset.from_file(path)
