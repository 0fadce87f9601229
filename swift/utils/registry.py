"""A typed, strict name -> value registry shared by models, templates, datasets and plugins."""
import difflib
from typing import Dict, Generic, Iterator, List, Optional, TypeVar

T = TypeVar('T')


def closest(name: str, candidates, n: int = 3) -> List[str]:
    return difflib.get_close_matches(str(name), [str(c) for c in candidates], n=n, cutoff=0.5)


def did_you_mean(name: str, candidates) -> str:
    """' Did you mean: a, b?' or '' when nothing is close."""
    hits = closest(name, candidates)
    return f' Did you mean: {", ".join(hits)}?' if hits else ''


class Registry(Generic[T]):
    """Duplicates raise unless exist_ok; unknown lookups raise KeyError naming the closest entries."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: Dict[str, T] = {}

    def register(self, name: str, value: T, exist_ok: bool = False) -> T:
        if name in self._items and not exist_ok:
            raise ValueError(f'{self.kind} {name!r} is already registered; pass exist_ok=True to replace it.')
        self._items[name] = value
        return value

    def get(self, name: str) -> T:
        if name not in self._items:
            raise KeyError(f'Unknown {self.kind} {name!r}.{did_you_mean(name, self._items)} '
                           f'Known: {", ".join(sorted(self._items)[:30])}{" ..." if len(self._items) > 30 else ""}')
        return self._items[name]

    def __getitem__(self, name: str) -> T:
        # reads like ms-swift's MODEL_MAPPING / TEMPLATE_MAPPING dicts
        return self.get(name)

    def find(self, name: str) -> Optional[T]:
        return self._items.get(name)

    def __contains__(self, name) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self):
        return self._items.items()

    def keys(self):
        return self._items.keys()

    def values(self):
        return self._items.values()
