"""Output and cache files. Rows are appended to `<output>.partial` as each prompt finishes, so an interrupted run
resumes where it stopped (the plan is printed); the file gets its final name at the end."""
import json
import os
from collections import defaultdict
from typing import Dict, Iterable, List, Set

from swift.utils import ArgumentError, get_logger
from swift.utils.atomic import open_staged

logger = get_logger()
DONE = '__done__'  # a marker row: the prompt was handled but produced no output rows (filtered)


class OutputFile:

    def __init__(self, path: str, override: bool):
        self.path, self.partial = path, path + '.partial'
        if os.path.exists(path) and not override:
            raise ArgumentError(f'{path} exists; pass --override_exist_file true or another --output_file.')
        os.makedirs(os.path.dirname(os.path.abspath(path)) or '.', exist_ok=True)
        self.done: Set[str] = set()
        if os.path.exists(self.partial):
            rows = list(_read_jsonl(self.partial))
            with open(self.partial, 'w', encoding='utf-8') as f:  # drops a last line cut short by the interruption
                f.writelines(json.dumps(row, ensure_ascii=False) + '\n' for row in rows)
            self.done = {row['id'] for row in rows}
            print(f'[INFO] resuming: {len(self.done)} prompts already done in {self.partial} '
                  '(delete it to start over)', flush=True)
        self._file = None  # opened on the first write: a run that fails before sampling leaves nothing behind

    def write(self, row_id: str, rows: List[dict]) -> None:
        if self._file is None:
            self._file = open(self.partial, 'a', encoding='utf-8')
        for row in rows or [{'id': row_id, DONE: True}]:
            self._file.write(json.dumps(row, ensure_ascii=False) + '\n')
        self._file.flush()
        self.done.add(row_id)

    def finish(self) -> int:
        """Move the rows (without markers) to the final path; the number of rows written."""
        if self._file is not None:
            self._file.close()
        rows = [r for r in _read_jsonl(self.partial) if not r.get(DONE)] if os.path.exists(self.partial) else []
        with open_staged(self.path) as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + '\n')
        if os.path.exists(self.partial):
            os.remove(self.partial)
        return len(rows)


def _read_jsonl(path: str) -> Iterable[dict]:
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                if n == 1 or not path.endswith('.partial'):
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
