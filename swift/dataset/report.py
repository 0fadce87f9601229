"""Counting rows that cannot be used, per source and per reason, so nothing is dropped silently."""
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

from swift.utils import DatasetError, get_logger

_SHOWN_LOCATIONS = 3


class RowError(Exception):
    """Raised by preprocessing for a row that must be dropped; the message is the reason (e.g. 'missing response'),
    counted per reason; `detail` (e.g. which image file) is shown with --strict."""

    def __init__(self, reason: str, detail: str = ''):
        super().__init__(reason)
        self.detail = detail


_STREAM_REPORTS: Dict[str, 'DropReport'] = OrderedDict()

# Where each canonical row came from, so encoding can name a row's file and line too: the loader adds one int64
# column (source id << 32 | 1-based line or row) that encoding reads and removes; it never reaches model inputs or
# caches. Ids index a table of this process (forked workers inherit it), so the column means nothing elsewhere.
ORIGIN = '__swift_origin'
_LOC_BITS = 32
_SOURCES: List[Tuple[str, str]] = []  # id -> (source, loc_kind)
_SOURCE_IDS: Dict[Tuple[str, str], int] = {}


def source_id(source: str, loc_kind: str) -> int:
    key = (source, loc_kind)
    if key not in _SOURCE_IDS:
        _SOURCE_IDS[key] = len(_SOURCES)
        _SOURCES.append(key)
    return _SOURCE_IDS[key]


def origin_code(source: int, loc: int) -> int:
    return source << _LOC_BITS | loc


def origin_of(code: int) -> Tuple[str, str, int]:
    """(source, loc_kind, loc) of an ORIGIN value."""
    source, kind = _SOURCES[code >> _LOC_BITS]
    return source, kind, code & ((1 << _LOC_BITS) - 1)


def where(source: str, loc_kind: str, loc: int) -> str:
    """How errors name a row: `data.jsonl, line 7` / `org/ds:default[train], row 7`."""
    return f'{source}, {loc_kind} {loc}'


def origin_text(code: Optional[int], position: int) -> str:
    """The row's file and line when the loader recorded them, else its position in the encoded dataset."""
    return where(*origin_of(code)) if code is not None else f'row {position}'


def track_stream(report: 'DropReport') -> 'DropReport':
    """A streamed source logs its report only when read to the end, which training that stops at --max_steps
    never does: the pipeline's summary shows the latest pass of each source from here."""
    if not getattr(_STREAM_REPORTS.get(report.source), 'finished', False):  # a complete pass says it all
        _STREAM_REPORTS[report.source] = report
    return report


def stream_reports(clear: bool = False) -> List['DropReport']:
    reports = list(_STREAM_REPORTS.values())
    if clear:  # a new run in the same process starts afresh
        _STREAM_REPORTS.clear()
    return reports


class DropReport:
    """Kept/dropped counts for one source; `loc_kind` is 'line' for jsonl files and 'row' otherwise."""

    def __init__(self, source: str, loc_kind: str = 'row', strict: bool = False):
        self.source = source
        self.loc_kind = loc_kind
        self.strict = strict
        self.kept = 0
        self.dropped: Dict[str, List[int]] = OrderedDict()
        self.columns_seen: Dict[str, None] = OrderedDict()
        self.finished = False  # set by log(): every row of the source was read

    def drop(self, loc: int, reason: str, detail: str = '') -> None:
        if self.strict:
            detail = f' ({detail.rstrip(".")})' if detail else ''
            raise DatasetError(f'{where(self.source, self.loc_kind, loc)}: {reason}{detail}. '
                               'Fix that row, or run without --strict to skip and count bad rows.')
        self.dropped.setdefault(reason, []).append(loc)

    def see_columns(self, row: dict) -> None:
        for key in row:
            self.columns_seen.setdefault(key, None)

    def merge(self, other: 'DropReport') -> None:
        self.kept += other.kept
        for reason, locs in other.dropped.items():
            self.dropped.setdefault(reason, []).extend(locs)
        self.columns_seen.update(other.columns_seen)

    @property
    def n_dropped(self) -> int:
        return sum(len(locs) for locs in self.dropped.values())

    def _reason_text(self, reason: str, locs: List[int]) -> str:
        unique = list(dict.fromkeys(locs))  # a row upsampled by #N is dropped once per copy
        shown = ', '.join(str(loc) for loc in unique[:_SHOWN_LOCATIONS])
        more = ', ...' if len(unique) > _SHOWN_LOCATIONS else ''
        return f'{reason}: {len(locs)} [{self.loc_kind} {shown}{more}]'

    def drops_text(self) -> str:
        """`dropped 2 (bad JSON: 1 [line 7], missing response: 1 [line 12])`"""
        reasons = ', '.join(self._reason_text(r, locs) for r, locs in self.dropped.items())
        return f'dropped {self.n_dropped} ({reasons})'

    def summary(self) -> str:
        text = f'{self.source}: kept {self.kept} rows'
        return f'{text}, {self.drops_text()}' if self.dropped else text

    def log(self) -> None:
        self.finished = True
        logger = get_logger()
        (logger.warning if self.dropped else logger.info)(self.summary())

    def check_not_empty(self) -> None:
        if self.kept:
            return
        found = ', '.join(self.columns_seen) or 'none'
        raise DatasetError(f'{self.summary()}: no usable rows. Columns found: [{found}]; expected one of: '
                           'messages | conversations | query+response | instruction+output | text | '
                           'chosen+rejected (rename columns with --columns \'{"src": "query"}\').')
