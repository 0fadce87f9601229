"""ms-swift 3.x's metric helpers for `compute_metrics` plugins: Metric (states with defaults and reset),
MeanMetric (a mean, summed over processes when torch.distributed runs), compute_acc (token/sequence accuracy of
predicted ids) and compute_rouge_bleu (ROUGE-1/2/L and BLEU-4 in percent, on our offline tokenizer)."""
from abc import ABC, abstractmethod
from typing import Callable, Dict, List, Optional

import numpy as np

from swift.utils.nlg_metrics import bleu4, rouge_l, rouge_n


class Metric(ABC):
    """Subclasses declare states with add_state in __init__ (after super().__init__()); reset() restores them."""

    def __init__(self):
        self._defaults: Dict[str, Callable] = {}

    def add_state(self, name: str, default=None, default_factory: Optional[Callable] = None) -> None:
        if not hasattr(self, '_defaults'):
            raise AttributeError(f'{type(self).__name__}.__init__ must call super().__init__() before add_state.')
        if (default is None) == (default_factory is None):
            raise ValueError(f'add_state({name!r}): give exactly one of default and default_factory.')
        self._defaults[name] = default_factory or (lambda: default)
        setattr(self, name, self._defaults[name]())

    def reset(self) -> None:
        for name, factory in self._defaults.items():
            setattr(self, name, factory())

    @abstractmethod
    def update(self, *args, **kwargs):
        """Add a batch."""

    @abstractmethod
    def compute(self):
        """The metric over everything added since the last reset."""


class MeanMetric(Metric):

    def __init__(self, nan_value=0, device=None, group=None):
        super().__init__()
        self.nan_value, self.device, self.group = nan_value, device, group
        self.add_state('state', default=0.)
        self.add_state('count', default=0)

    def update(self, state) -> None:
        if hasattr(state, 'ndim'):  # tensor or array: a scalar counts once, else one per leading row
            count = 1 if state.ndim == 0 else state.shape[0]
            state = float(state.sum())
        elif isinstance(state, (list, tuple)):
            count, state = len(state), sum(state)
        else:
            count = 1
        self.state += state
        self.count += count

    def compute(self) -> Dict[str, float]:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            import torch
            device = self.device or ('cuda' if dist.get_backend(self.group) == 'nccl' else 'cpu')
            tensor = torch.tensor([self.state, self.count], dtype=torch.float64, device=device)
            dist.all_reduce(tensor, group=self.group)
            self.state, self.count = tensor[0].item(), int(tensor[1].item())
        return {'value': self.state / self.count if self.count else self.nan_value}


def compute_acc(preds, labels, *, acc_strategy: str = 'token', is_encoder_decoder: bool = False,
                cu_seqlens=None) -> Dict[str, List[bool]]:
    """Per-token (or per-sequence) correctness of predicted ids against labels (-100 ignored); causal LMs'
    predictions are shifted one position. {} for float labels or mismatched shapes (not a token task)."""
    if hasattr(preds, 'cpu'):
        preds, labels = preds.cpu().numpy(), labels.cpu().numpy()
    preds, labels = np.asarray(preds), np.asarray(labels)
    if preds.ndim >= 2 and not is_encoder_decoder:
        preds, labels = preds[..., :-1], labels[..., 1:]
    if np.issubdtype(labels.dtype, np.floating) or preds.shape != labels.shape:
        return {}
    masks = labels != -100
    if acc_strategy == 'token' or preds.ndim == 1:
        return {'token_acc' if preds.ndim >= 2 else 'acc': (preds[masks] == labels[masks]).tolist()}
    if cu_seqlens is not None and masks.shape[0] == 1:  # packed: one row, sequences delimited by cu_seqlens
        bounds = list(zip(cu_seqlens[:-1], cu_seqlens[1:]))
        right = [bool(np.all((preds[0, s:e] == labels[0, s:e])[masks[0, s:e]])) for s, e in bounds]
    else:
        right = [bool(np.all(p[m] == l[m])) for p, l, m in zip(preds, labels, masks)]
    return {f'{acc_strategy}_acc': right}


def compute_rouge_bleu(preds: List[str], labels: List[str]) -> Dict[str, float]:
    scores = {key: MeanMetric() for key in ('rouge-1', 'rouge-2', 'rouge-l', 'bleu-4')}
    for pred, label in zip(preds, labels):
        if not pred.strip() or not label.strip():
            continue
        scores['rouge-1'].update(rouge_n(pred, label, 1))
        scores['rouge-2'].update(rouge_n(pred, label, 2))
        scores['rouge-l'].update(rouge_l(pred, label))
        scores['bleu-4'].update(bleu4(pred, label))
    return {key: round(metric.compute()['value'] * 100, 6) for key, metric in scores.items()}
