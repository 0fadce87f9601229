"""Reading local files into (location, raw row | RowError) pairs; locations are 1-based lines or rows."""
import csv
import json
import os
from typing import Any, Iterator, List, Tuple

from swift.utils import DatasetError

from .report import RowError

SUPPORTED_EXTENSIONS = ('.jsonl', '.json', '.csv', '.txt')
Item = Tuple[int, Any]


def loc_kind(path: str) -> str:
    """jsonl and txt rows are physical lines; json and csv rows are counted as records."""
    return 'line' if path.endswith(('.jsonl', '.txt')) else 'row'


# Files are decoded with errors='surrogateescape': a row with a byte that is not UTF-8 becomes a RowError (counted
# at its file:line like any bad row, named by --strict) instead of a UnicodeDecodeError that aborts the load.
NOT_UTF8 = RowError('not UTF-8 text (a byte that is not valid UTF-8)')


def _is_text(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode('utf-8')
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_is_text(k) and _is_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_text(v) for v in value)
    return True


def _parse_json_object(text: str) -> Any:
    if not _is_text(text):
        return NOT_UTF8
    try:
        row = json.loads(text)
    except ValueError:
        return RowError('bad JSON')
    return row if isinstance(row, dict) else RowError('not a JSON object')


def _read_jsonl(path: str) -> Iterator[Item]:
    with open(path, encoding='utf-8-sig', errors='surrogateescape') as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                yield lineno, _parse_json_object(line)


def _read_json(path: str) -> Iterator[Item]:
    with open(path, encoding='utf-8-sig', errors='surrogateescape') as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg == 'Extra data':  # JSON lines saved with a .json extension
            yield from _read_jsonl(path)
            return
        raise DatasetError(f'{path}: not valid JSON ({error}); expected a list of objects or JSON lines.') from None
    if isinstance(data, dict) and isinstance(data.get('data'), list):
        data = data['data']
    if not isinstance(data, list):
        raise DatasetError(f'{path}: expected a JSON list of objects, got {type(data).__name__}.')
    for index, row in enumerate(data, 1):
        if not isinstance(row, dict):
            row = RowError('not a JSON object')
        yield index, row if _is_text(row) else NOT_UTF8


def _read_csv(path: str) -> Iterator[Item]:
    with open(path, encoding='utf-8-sig', errors='surrogateescape', newline='') as f:
        for index, row in enumerate(csv.DictReader(f), 1):
            if None in row:
                yield index, RowError('more cells than header columns')
            elif not _is_text(row):
                yield index, NOT_UTF8
            else:  # an empty cell means a missing value, as in HF's csv loader
                yield index, {k: (None if v == '' else v) for k, v in row.items()}


def _read_txt(path: str) -> Iterator[Item]:
    with open(path, encoding='utf-8-sig', errors='surrogateescape') as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                yield lineno, {'text': line.rstrip('\n')} if _is_text(line) else NOT_UTF8


_READERS = {'.jsonl': _read_jsonl, '.json': _read_json, '.csv': _read_csv, '.txt': _read_txt}


def read_file(path: str) -> Iterator[Item]:
    ext = os.path.splitext(path)[1].lower()
    if ext not in _READERS:
        raise DatasetError(f'{path}: unsupported file type {ext or "(none)"!r}; '
                           f'use one of {", ".join(SUPPORTED_EXTENSIONS)} or a folder of them.')
    return _READERS[ext](path)


def list_files(path: str) -> List[str]:
    """The file itself, or every supported file under a folder (sorted, recursive)."""
    if not os.path.exists(path):
        raise DatasetError(f'Dataset file not found: {path}')
    if os.path.isfile(path):
        return [path]
    files = sorted(os.path.join(root, name) for root, _, names in os.walk(path) for name in names
                   if name.lower().endswith(SUPPORTED_EXTENSIONS) and not name.startswith('.'))
    if not files:
        raise DatasetError(f'Dataset folder {path} has no {"/".join(SUPPORTED_EXTENSIONS)} files.')
    return files
