"""Dataset rows as sampling prompts: a stable id per original row, the prompt/reference split, and the one
`--data_range` shard function (a rank-sharding wrapper calls it with its rank and world size)."""
import hashlib
import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

from swift.utils import ArgumentError

_OUTPUT_KEYS = ('id', 'score', 'orm_score', 'prm_score', 'rejected_response', 'rejected_score')


def row_id(row: Dict[str, Any]) -> str:
    """md5 of the original row (canonical JSON): a second run over the same --dataset finds its cached samples."""
    text = json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.md5(text.encode('utf-8')).hexdigest()


def row_seed(seed: int, rid: str) -> int:
    """The sampling seed of one row: --seed mixed with the row id, so a row's samples do not depend on which
    rank, shard or batch it lands in (a 31-bit value every engine and server accepts)."""
    return (seed * 1_000_003 + int(rid[:8], 16)) % 2**31


def shard_rows(rows: Sequence, data_range: Optional[Sequence[int]]) -> List:
    """Shard i of n: the contiguous blocks torchrun ranks take too (so --data_range and NPROC_PER_NODE compose);
    sizes differ by at most one, and the n shards together are exactly `rows`."""
    from swift.distributed.shard import block_bounds
    rows = list(rows)
    if not data_range:
        return rows
    if len(data_range) != 2 or not 0 <= data_range[0] < data_range[1]:
        raise ArgumentError(f'--data_range takes `i n` with 0 <= i < n, got {list(data_range)}.')
    start, stop = block_bounds(len(rows), *data_range)
    return rows[start:stop]


def split_prompt(row: Dict[str, Any]) -> Tuple[List[dict], Optional[str]]:
    """(prompt messages, reference answer or None): a final assistant message is the reference, not the prompt."""
    messages = list(row['messages'])
    if messages and messages[-1]['role'] == 'assistant':
        return messages[:-1], messages[-1].get('content')
    return messages, None


def columns_of(row: Dict[str, Any]) -> Dict[str, Any]:
    """The dataset columns a reward function receives (e.g. `solution`), without our own output fields."""
    return {k: v for k, v in row.items() if k not in ('messages', 'tools') + _OUTPUT_KEYS}


def output_row(row: Dict[str, Any], prompt: List[dict], completion: str, **fields) -> Dict[str, Any]:
    """A training-ready row: the prompt plus `completion` as the assistant turn, the source columns, scores."""
    out = {**columns_of(row), 'messages': prompt + [{'role': 'assistant', 'content': completion}]}
    if row.get('tools'):
        out['tools'] = row['tools']
    out.update({k: v for k, v in fields.items() if v is not None})
    return out
