"""`--dataset` syntax: `id_or_path[:subset1/subset2|all][#N]`."""
import os
import re
from dataclasses import dataclass, field
from typing import List, Optional

from swift.utils import DatasetError

_SAMPLE = re.compile(r'^(.*)#(\d+)$')
_SUBSETS = re.compile(r'^[\w\-. ]+(/[\w\-. ]+)*$')
_FILE_SUFFIXES = ('.jsonl', '.json', '.csv', '.txt')


@dataclass
class DatasetSyntax:
    dataset: str
    subsets: List[str] = field(default_factory=list)
    dataset_sample: Optional[int] = None

    @classmethod
    def parse(cls, text: str) -> 'DatasetSyntax':
        text = text.strip()
        if not text:
            raise DatasetError('Empty --dataset entry; pass an id or a path such as data.jsonl.')
        sample = None
        match = _SAMPLE.match(text)
        if match and not os.path.exists(text):
            text, sample = match.group(1), int(match.group(2))
        dataset, subsets = _split_subsets(text)
        return cls(dataset, subsets, sample)


def _split_subsets(text: str):
    """Split on the last ':' only when the rest names subsets, not a path (an existing path is never split)."""
    if ':' not in text or os.path.exists(text):
        return text, []
    head, tail = text.rsplit(':', 1)
    if not head or not _SUBSETS.match(tail) or tail.lower().endswith(_FILE_SUFFIXES):
        return text, []
    return head, tail.split('/')
