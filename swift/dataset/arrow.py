"""Canonical rows -> datasets.Dataset with one uniform schema (so map/concatenate work across formats)."""
import json
from typing import Any, Dict, List

import datasets

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
