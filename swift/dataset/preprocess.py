"""Row preprocessors (ms-swift 3.x names): every source format -> one canonical row (see docs/architecture.md).

A preprocessor's `preprocess(row)` returns the canonical row, a list of rows, or None to skip the row; it raises
RowError (or any exception) for a malformed row, which the loader counts as dropped. Columns the preprocessor does
not consume survive untouched (reward functions and metrics read them).
"""
import os
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union

from swift.utils import SwiftError

from .media import check_media, merge_part_media
from .messages import finalize_row, normalize_messages
from .report import ORIGIN, DropReport, RowError, origin_code

QUERY_KEYS = ('query', 'prompt', 'question', 'problem')
RESPONSE_KEYS = ('response', 'answer', 'completion')
MESSAGES_KEYS = ('messages', 'conversations', 'conversation')
Row = Dict[str, Any]


def rename_columns(row: Row, columns: Optional[Dict[str, str]]) -> Row:
    for src, dst in (columns or {}).items():
        if src in row and src != dst:
            row[dst] = row.pop(src)
    return row


def _pop_first(row: Row, keys: Iterable[str]) -> Any:
    """Pop the first key present with a non-None value (aliases such as prompt/query)."""
    for key in keys:
        if row.get(key) is not None:
            return row.pop(key)
    for key in keys:
        row.pop(key, None)
    return None


def _require_str(value: Any, name: str) -> str:
    if value is None or value == '':
        raise RowError(f'missing {name}')
    if not isinstance(value, str):
        raise RowError(f'{name} is not a string')
    return value


def _history_messages(history: Any) -> List[Dict[str, str]]:
    if not history:
        return []
    if not isinstance(history, list) or not all(isinstance(h, (list, tuple)) and len(h) == 2 for h in history):
        raise RowError('history is not a list of [query, response] pairs')
    messages = []
    for query, response in history:
        messages += [{'role': 'user', 'content': _require_str(query, 'history query')},
                     {'role': 'assistant', 'content': _require_str(response, 'history response')}]
    return messages


def build_messages(system: Any, history: Any, query: Any, response: Any) -> List[Dict[str, str]]:
    messages = [{'role': 'system', 'content': _require_str(system, 'system')}] if system else []
    messages += _history_messages(history)
    messages.append({'role': 'user', 'content': _require_str(query, 'query')})
    if response is not None:  # query-only rows serve inference; training drops them when encoding
        messages.append({'role': 'assistant', 'content': _require_str(response, 'response')})
    return messages


class RowPreprocessor:
    """Base class: override `preprocess(row)`. `columns` renames source columns before `preprocess` runs."""

    def __init__(self, *, columns: Optional[Dict[str, str]] = None, **kwargs):
        self.columns = dict(columns or {})

    def preprocess(self, row: Row) -> Union[Row, List[Row], None]:
        return row  # the base class accepts rows that are already canonical

    def process_row(self, row: Row, columns: Optional[Dict[str, str]] = None) -> List[Row]:
        """User `columns` first (ms-swift semantics), then this preprocessor's own mapping, then validation."""
        row = rename_columns(rename_columns(dict(row), columns), self.columns)
        out = self.preprocess(row)
        if out is None:
            raise RowError('skipped by preprocess')
        return [finalize_row(r) for r in (out if isinstance(out, list) else [out])]

    def __call__(self, dataset, *, num_proc: int = 1, load_from_cache_file: bool = True, strict: bool = False,
                 batch_size: Optional[int] = None):
        """ms-swift style: preprocess a whole HF dataset (dropped rows counted and logged)."""
        from .arrow import rows_to_dataset
        report = DropReport(type(self).__name__, 'row', strict)
        rows = list(preprocess_rows(enumerate(dataset, 1), self, report))
        report.log()
        report.check_not_empty()
        return rows_to_dataset(rows)


class ResponsePreprocessor(RowPreprocessor):
    """query/response (+ system, history); preference rows: chosen/rejected strings."""

    def preprocess(self, row: Row) -> Row:
        system = row.pop('system', None)
        history = row.pop('history', None)
        query = _pop_first(row, QUERY_KEYS)
        response = _pop_first(row, RESPONSE_KEYS)
        if response is None and isinstance(row.get('chosen'), str):
            response = row.pop('chosen')
            row['rejected_response'] = _require_str(row.pop('rejected', None), 'rejected')
        row['messages'] = build_messages(system, history, query, response)
        return row


class AlpacaPreprocessor(RowPreprocessor):
    """instruction/input/output (+ system, history)."""

    def __init__(self, *, concat_inst_input: str = '\n', columns: Optional[Dict[str, str]] = None, **kwargs):
        super().__init__(columns=columns, **kwargs)
        self.concat_inst_input = concat_inst_input

    def preprocess(self, row: Row) -> Row:
        instruction = _require_str(row.pop('instruction', None), 'instruction')
        extra = row.pop('input', None)
        query = f'{instruction}{self.concat_inst_input}{extra}' if extra else instruction
        row['messages'] = build_messages(row.pop('system', None), row.pop('history', None), query,
                                         row.pop('output', None))
        return row


class MessagesPreprocessor(RowPreprocessor):
    """OpenAI `messages` (role/content) and ShareGPT `conversations` (from/value); chosen/rejected message lists."""

    def __init__(self, *, role_key: Optional[str] = None, content_key: Optional[str] = None,
                 user_role: Optional[str] = None, assistant_role: Optional[str] = None, system_role: str = 'system',
                 columns: Optional[Dict[str, str]] = None, **kwargs):
        super().__init__(columns=columns, **kwargs)
        self.role_key, self.content_key = role_key, content_key
        self.role_map = {k: v for k, v in ((user_role, 'user'), (assistant_role, 'assistant'),
                                           (system_role, 'system')) if k}

    def _keys(self, messages: Any) -> Tuple[str, str]:
        first = messages[0] if isinstance(messages, list) and messages else {}
        sharegpt = isinstance(first, dict) and 'from' in first and 'role' not in first
        return (self.role_key or ('from' if sharegpt else 'role'),
                self.content_key or ('value' if sharegpt else 'content'))

    def _normalize(self, messages: Any, media: Optional[list] = None) -> List[Dict[str, str]]:
        role_key, content_key = self._keys(messages)
        return normalize_messages(messages, role_key=role_key, content_key=content_key, role_map=self.role_map,
                                  media=[] if media is None else media)

    def preprocess(self, row: Row) -> Row:
        messages = _pop_first(row, MESSAGES_KEYS)
        if messages is None and isinstance(row.get('chosen'), list):
            messages = row.pop('chosen')
            rejected = self._normalize(row.pop('rejected', None))
            if not rejected or rejected[-1]['role'] != 'assistant':
                raise RowError('rejected does not end with an assistant message')
            row['rejected_response'] = rejected[-1]['content']
        if messages is None:
            raise RowError('missing messages')
        media: list = []  # image/video content parts -> the images/videos columns
        messages = self._normalize(messages, media)
        merge_part_media(row, media)
        system = row.pop('system', None)
        if system and (not messages or messages[0]['role'] != 'system'):
            messages.insert(0, {'role': 'system', 'content': _require_str(system, 'system')})
        row['messages'] = messages
        return row


class TextPreprocessor(RowPreprocessor):
    """Pretraining `text` rows: the whole text is one assistant message."""

    def preprocess(self, row: Row) -> Row:
        row['messages'] = [{'role': 'assistant', 'content': _require_str(row.pop('text', None), 'text')}]
        return row


class AutoPreprocessor(RowPreprocessor):
    """Detects the format of each row from its columns."""

    def __init__(self, *, columns: Optional[Dict[str, str]] = None, **kwargs):
        super().__init__(columns=columns, **kwargs)
        self._messages, self._alpaca = MessagesPreprocessor(), AlpacaPreprocessor()
        self._response, self._text = ResponsePreprocessor(), TextPreprocessor()

    def preprocess(self, row: Row) -> Row:
        if any(k in row for k in MESSAGES_KEYS) or isinstance(row.get('chosen'), list):
            return self._messages.preprocess(row)
        if 'instruction' in row:
            return self._alpaca.preprocess(row)
        if any(k in row for k in QUERY_KEYS + RESPONSE_KEYS + ('chosen',)):
            return self._response.preprocess(row)
        if 'text' in row:
            return self._text.preprocess(row)
        raise RowError('no known columns')


def _error_reason(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else ''
    return f'{type(error).__name__} in preprocess: {text[:80]}'


def preprocess_rows(items: Iterable[Tuple[int, Any]], preprocessor: RowPreprocessor, report: DropReport,
                    columns: Optional[Dict[str, str]] = None, source: Optional[int] = None) -> Iterator[Row]:
    """Run `preprocessor` over (location, raw row | RowError) pairs; bad rows go to `report`. Image paths are
    resolved against the data file's folder when the source is a local file. With a `source` id (report.py) each
    row gets its ORIGIN, for encoding's errors."""
    root = os.path.dirname(os.path.abspath(report.source)) if os.path.isfile(report.source) else None
    for loc, raw in items:
        if isinstance(raw, RowError):
            report.drop(loc, str(raw))
            continue
        report.see_columns(raw)
        try:
            rows = [check_media(r, root) for r in preprocessor.process_row(raw, columns)]
        except RowError as error:
            report.drop(loc, str(error), error.detail)
            continue
        except SwiftError:  # a configuration problem (e.g. missing --model_name), not a bad row
            raise
        except Exception as error:  # a user preprocess bug on one row must not end the whole load
            report.drop(loc, _error_reason(error))
            continue
        report.kept += len(rows)
        if source is not None:
            code = origin_code(source, loc)
            for row in rows:
                row[ORIGIN] = code
        yield from rows
