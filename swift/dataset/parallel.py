"""Running per-row work in `num_proc` forked processes, chunk order kept."""
import multiprocessing
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .preprocess import RowPreprocessor, preprocess_rows
from .report import DropReport

_MIN_ROWS_PER_PROC = 1000  # below this, starting processes costs more than it saves
_STATE: Dict[str, Any] = {}  # set before fork: user preprocessors and templates need not be picklable


def _call(chunk: List[Any]) -> Any:
    return _STATE['fn'](chunk, _STATE['state'])


def map_chunks(items: Sequence[Any], fn: Callable[[Sequence[Any], Dict[str, Any]], Any], num_proc: int,
               state: Dict[str, Any]) -> List[Any]:
    """[fn(chunk, state) for each chunk of items (a list or a range)]: one chunk in-process, or about 4 chunks
    per process."""
    if num_proc <= 1 or len(items) < 2 * _MIN_ROWS_PER_PROC or 'fork' not in multiprocessing.get_all_start_methods():
        return [fn(items, state)]
    _STATE.update(fn=fn, state=state)
    size = -(-len(items) // (num_proc * 4))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    try:
        with multiprocessing.get_context('fork').Pool(num_proc) as pool:
            return pool.map(_call, chunks)
    finally:
        _STATE.clear()


def _preprocess_chunk(chunk: List[Tuple[int, Any]], state: Dict[str, Any]) -> Tuple[List[dict], DropReport]:
    report = DropReport(state['source'], state['kind'], state['strict'])
    return list(preprocess_rows(chunk, state['func'], report, state['columns'], state['origin'])), report


def preprocess_items(items: List[Tuple[int, Any]], func: RowPreprocessor, report: DropReport,
                     columns: Optional[Dict[str, str]], num_proc: int, origin: Optional[int] = None) -> List[dict]:
    """All canonical rows of `items`; drops and counts are merged into `report`. `origin`: see preprocess_rows."""
    state = {'source': report.source, 'kind': report.loc_kind, 'strict': report.strict, 'func': func,
             'columns': columns, 'origin': origin}
    rows = []
    for chunk_rows, chunk_report in map_chunks(items, _preprocess_chunk, num_proc, state):
        rows += chunk_rows
        report.merge(chunk_report)
    return rows
