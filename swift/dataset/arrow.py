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
