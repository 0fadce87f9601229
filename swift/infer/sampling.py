"""Vectorised per-row sampling for a decode batch: every row has its own temperature, top-k, top-p, penalties
and (optionally) its own seeded generator; all rows are processed with a handful of tensor ops per step."""
from dataclasses import dataclass
from typing import List, Optional, Tuple

import torch


@dataclass
class SamplingParams:
    temperature: float = 0.  # 0: greedy
    top_k: int = 0  # 0: off
    top_p: float = 1.
    repetition_penalty: float = 1.
    presence_penalty: float = 0.
    frequency_penalty: float = 0.
    generator: Optional[torch.Generator] = None  # shared by the n rows of one seeded request


class BatchSampler:

    def __init__(self, params: List[SamplingParams], prompts: List[List[int]], vocab_size: int, device,
                 generated: Optional[List[List[int]]] = None):
        """`generated`: tokens already sampled per row (rows joining a running batch keep their penalties)."""
        self.params = list(params)
        self.vocab_size, self.device = vocab_size, device

        def f(name):
            return torch.tensor([getattr(p, name) for p in params], dtype=torch.float32, device=device)

        self.temperature, self.top_p = f('temperature'), f('top_p')
        self.top_k = torch.tensor([p.top_k for p in params], dtype=torch.long, device=device)
        self.rep, self.presence, self.frequency = f('repetition_penalty'), f('presence_penalty'), f('frequency_penalty')
        self.greedy = self.temperature <= 0
        self._any_rep = bool((self.rep != 1).any())
        self._any_freq = bool((self.presence != 0).any() or (self.frequency != 0).any())
        self._any_filter = bool(((self.top_k > 0) | (self.top_p < 1)).any())
        generated = generated or [[] for _ in params]
        self.seen = self._seen(prompts, generated) if self._any_rep else None
        self.counts = self._counts(generated) if self._any_freq else None

    def _seen(self, prompts: List[List[int]], generated: List[List[int]]) -> torch.Tensor:
        seen = torch.zeros(len(prompts), self.vocab_size, dtype=torch.bool, device=self.device)
        for i, ids in enumerate(prompts):
            seen[i, torch.tensor(list(ids) + list(generated[i]), dtype=torch.long, device=self.device)] = True
        return seen

    def _counts(self, generated: List[List[int]]) -> torch.Tensor:
        counts = torch.zeros(len(generated), self.vocab_size, device=self.device)
        for i, ids in enumerate(generated):
            if ids:
                counts[i] += torch.bincount(torch.tensor(ids, device=self.device), minlength=self.vocab_size)
        return counts

    def select(self, keep: torch.Tensor) -> None:
        """Keep only the rows at `keep` (finished rows leave the batch)."""
        idx = keep.tolist()
        self.params = [self.params[i] for i in idx]
        for name in ('temperature', 'top_p', 'top_k', 'rep', 'presence', 'frequency', 'greedy', 'seen', 'counts'):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, value[keep])

    def process(self, logits: torch.Tensor) -> torch.Tensor:
        """Penalties, temperature and top-k/top-p applied to fp32 logits [B, V]."""
        if self._any_rep:
            rep = self.rep[:, None]
            penalised = torch.where(logits > 0, logits / rep, logits * rep)
            logits = torch.where(self.seen, penalised, logits)
        if self._any_freq:
            logits = logits - self.frequency[:, None] * self.counts - self.presence[:, None] * (self.counts > 0)
        temperature = torch.where(self.greedy, torch.ones_like(self.temperature), self.temperature)
        logits = logits / temperature[:, None]
        if self._any_filter:
            logits = self._filter(logits)
        return logits

    def _filter(self, logits: torch.Tensor) -> torch.Tensor:
        sorted_logits, sorted_idx = logits.sort(dim=-1, descending=True)
        rank = torch.arange(logits.shape[-1], device=logits.device)[None, :]
        k = torch.where(self.top_k > 0, self.top_k, torch.full_like(self.top_k, logits.shape[-1]))
        remove = rank >= k[:, None]
        probs = sorted_logits.softmax(-1)
        remove |= (probs.cumsum(-1) - probs) > self.top_p[:, None]  # keeps at least the top token
        sorted_logits = sorted_logits.masked_fill(remove, float('-inf'))
        return torch.empty_like(logits).scatter_(-1, sorted_idx, sorted_logits)

    def sample(self, logits: torch.Tensor) -> torch.Tensor:
        """Next token per row: argmax for greedy rows, multinomial (per-request generator) for the others."""
        processed = self.process(logits)
        tokens = processed.argmax(-1)
        if not bool(self.greedy.all()):
            probs = processed.softmax(-1)
            for rows, generator in self._groups():
                drawn = torch.multinomial(probs[rows], 1, generator=generator).squeeze(-1)
                tokens[rows] = torch.where(self.greedy[rows], tokens[rows], drawn)
        self._record(tokens)
        return tokens

    def _groups(self) -> List[Tuple[torch.Tensor, Optional[torch.Generator]]]:
        """Rows sharing a generator (unseeded rows share the global one), sampled with one multinomial each."""
        groups = {}
        for i, p in enumerate(self.params):
            groups.setdefault(id(p.generator), (p.generator, []))[1].append(i)
        return [(torch.tensor(rows, device=self.device), gen) for gen, rows in groups.values()]

    def _record(self, tokens: torch.Tensor) -> None:
        rows = torch.arange(tokens.shape[0], device=tokens.device)
        if self.seen is not None:
            self.seen[rows, tokens] = True
        if self.counts is not None:
            self.counts[rows, tokens] += 1
