"""Output and cache files. Rows are appended to `<output>.partial` as each prompt finishes, so an interrupted run
resumes where it stopped (the plan is printed); the file gets its final name at the end. Under torchrun each rank
has its own partial file and rank 0 merges them in dataset order."""
import glob
import json
import os
import re
from collections import defaultdict
from typing import Dict, Iterable, List, Sequence, Set

from swift.utils import ArgumentError, get_logger
from swift.utils.atomic import open_staged

logger = get_logger()
_PARTIAL = re.compile(r'\.partial(\.rank\d+)?$')
DONE = '__done__'  # a marker row: the prompt was handled but produced no output rows (filtered)


class OutputFile:
    """One process writes `<output>.partial`; rank r of a torchrun run writes `<output>.partial.rank<r>`. Every
    rank resumes from all of them (the world size may change between runs), and `finish` (rank 0, after all
    ranks are done) writes the rows in the order of the dataset."""

    def __init__(self, path: str, override: bool, rank: int = 0, world_size: int = 1):
        self.path = path
        self.partial = path + '.partial' + (f'.rank{rank}' if world_size > 1 else '')
        if os.path.exists(path) and not override:
            raise ArgumentError(f'{path} exists; pass --override_exist_file true or another --output_file.')
        os.makedirs(os.path.dirname(os.path.abspath(path)) or '.', exist_ok=True)
        if os.path.exists(self.partial):  # drop a last line cut short by the interruption; atomic for readers
            rows = list(_read_jsonl(self.partial))
            with open(self.partial + '.tmp', 'w', encoding='utf-8') as f:
                f.writelines(json.dumps(row, ensure_ascii=False) + '\n' for row in rows)
            os.replace(self.partial + '.tmp', self.partial)
        self.done: Set[str] = {row['id'] for part in self.partials() for row in _read_jsonl(part)}
        if self.done and rank == 0:
            print(f'[INFO] resuming: {len(self.done)} prompts already done in {path}.partial* '
                  '(delete them to start over)', flush=True)
        self._file = None  # opened on the first write: a run that fails before sampling leaves nothing behind

    def partials(self) -> List[str]:
        return sorted(glob.glob(glob.escape(self.path) + '.partial')
                      + glob.glob(glob.escape(self.path) + '.partial.rank*[0-9]'))

    def write(self, row_id: str, rows: List[dict]) -> None:
        if self._file is None:
            self._file = open(self.partial, 'a', encoding='utf-8')
        for row in rows or [{'id': row_id, DONE: True}]:
            self._file.write(json.dumps(row, ensure_ascii=False) + '\n')
        self._file.flush()
        self.done.add(row_id)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def finish(self, order: Sequence[str]) -> int:
        """The rows of every partial file (without markers) at the final path, grouped by id in `order` (the
        dataset's row ids); the partial files are removed. The number of rows written."""
        self.close()
        parts = self.partials()
        by_id: Dict[str, List[dict]] = defaultdict(list)
        for part in parts:
            for row in _read_jsonl(part):
                if not row.get(DONE):
                    by_id[row['id']].append(row)
        rows = [row for rid in dict.fromkeys(order) for row in by_id.pop(rid, [])]
        rows += [row for rest in by_id.values() for row in rest]  # ids of another --dataset: kept, at the end
        with open_staged(self.path) as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + '\n')
        for part in parts:
            os.remove(part)
        return len(rows)


def _read_jsonl(path: str) -> Iterable[dict]:
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                if n == 1 or not _PARTIAL.search(path):
                    raise ArgumentError(f'{path}:{n}: not valid JSON.') from None
                return  # the last line of an interrupted run may be cut short


def read_cache(paths: List[str]) -> Dict[str, List[str]]:
    """Row id -> the completions an earlier unscored run wrote (the last assistant message of each row)."""
    cache: Dict[str, List[str]] = defaultdict(list)
    for path in paths:
        for n, row in enumerate(_read_jsonl(path), 1):
            if row.get(DONE):
                continue
            if 'id' not in row or not row.get('messages'):
                raise ArgumentError(f'--cache_files {path}:{n}: not a `swift sample` output row (no id/messages).')
            cache[row['id']].append(row['messages'][-1]['content'])
    return cache
