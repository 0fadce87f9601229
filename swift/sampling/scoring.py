"""ORM and PRM scoring of sampled completions, and the keep/filter rules of 002 (prm_threshold,
easy_query_threshold, n_best_to_keep)."""
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from swift.utils import SwiftError


def build_orm(name: str, args) -> Callable:
    """The registered ORM `name` (class or function); a class is built from the arguments its __init__ names."""
    from swift.plugin import orms
    entry = orms.get(name)
    if inspect.isclass(entry):
        params = inspect.signature(entry.__init__).parameters
        entry = entry(**{k: getattr(args, k) for k in params if k not in ('self', 'kwargs') and hasattr(args, k)})
    return entry


def build_prm(name: str) -> Optional[Callable]:
    """A PRM plugin by name (None when `name` is not registered: then it is a reward-model checkpoint)."""
    from swift.plugin import prms
    if name not in prms:
        return None
    entry = prms.get(name)
    return entry() if inspect.isclass(entry) else entry


@dataclass
class Scored:
    text: str
    orm: Optional[float] = None
    prm: Optional[float] = None

    @property
    def score(self) -> Optional[float]:
        values = [v for v in (self.orm, self.prm) if v is not None]
        return sum(values) / len(values) if values else None


class Scorer:
    """Scores the completions of one prompt with the ORM and/or PRM; either may be absent."""

    def __init__(self, orm: Optional[Callable] = None, prm: Optional[Callable] = None, names=('', '')):
        self.orm, self.prm = orm, prm
        self.orm_name, self.prm_name = names

    @property
    def active(self) -> bool:
        return self.orm is not None or self.prm is not None

    def orm_scores(self, texts: List[str], columns: Dict[str, Any]) -> List[Optional[float]]:
        kwargs = {k: [v] * len(texts) for k, v in columns.items()}
        try:
            scores = self.orm(texts, **kwargs)
        except TypeError as e:
            raise SwiftError(f'--orm_model {self.orm_name} failed: {e}; the dataset columns it receives are '
                             f'{", ".join(sorted(columns)) or "none"}.') from None
        return [None if s is None else float(s) for s in scores]

    def prm_scores(self, prompt: List[dict], texts: List[str]) -> List[Optional[float]]:
        from swift.infer import InferRequest
        requests = [InferRequest(prompt + [{'role': 'assistant', 'content': t}]) for t in texts]
        scores = self.prm(requests)
        return [_reduce(s) for s in scores]

    def score(self, prompt: List[dict], texts: List[str], columns: Dict[str, Any]) -> List[Scored]:
        orm = self.orm_scores(texts, columns) if self.orm is not None else [None] * len(texts)
        prm = self.prm_scores(prompt, texts) if self.prm is not None else [None] * len(texts)
        return [Scored(t, o, p) for t, o, p in zip(texts, orm, prm)]


def _reduce(score) -> Optional[float]:
    """A per-step score list counts by its weakest step (a solution is as good as its worst step)."""
    if isinstance(score, (list, tuple)):
        return min(float(s) for s in score) if score else None
    return None if score is None else float(score)


def select(scored: List[Scored], args) -> Dict[str, Any]:
    """{'kept': best first, 'worst': the lowest-scored, 'reason': why nothing was kept or None}."""
    if args.easy_query_threshold is not None:
        correct = [s.orm for s in scored if s.orm is not None]
        if correct and sum(c > 0 for c in correct) / len(correct) > args.easy_query_threshold:
            return {'kept': [], 'worst': None, 'reason': 'easy'}
    if any(s.prm is not None for s in scored):
        scored = [s for s in scored if s.prm is None or s.prm >= args.prm_threshold]
        if not scored:
            return {'kept': [], 'worst': None, 'reason': 'prm_threshold'}
    unique = list({s.text: s for s in scored}.values())  # the same text twice is one sample
    ranked = sorted(unique, key=lambda s: -1e9 if s.score is None else s.score, reverse=True)
    return {'kept': ranked[:args.n_best_to_keep], 'worst': ranked[-1] if len(ranked) > 1 else None, 'reason': None}
