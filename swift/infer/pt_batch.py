"""One decode batch of the pt engine: left-padded prefill, then a KV-cached decode loop with vectorised sampling.

Rows that finish leave the batch at once (the cache, mask and sampler are compacted), so long requests do not
pay for short ones; a cancelled request (client gone) drops its rows the same way. With a SlotCache (most
decoder-only models) the batch is continuous: between steps, waiting requests are prefilled (reusing a cached
shared prefix) and join the running rows; other models use a DynamicCache and run to completion.
"""
from typing import Callable, Dict, List, Optional, Sequence

import torch
from transformers import DynamicCache

from swift.template.collator import pad_batch

from .pt_cache import HEADROOM, SlotCache, merge, num_cache_layers, supports_slots
from .pt_prefix import PrefixStore, place_prefix
from .sampling import BatchSampler
from .utils import IncrementalDecoder, find_stop, logprob_entry

PREFILL_GROUP = 8  # rows per prefill forward: big enough for efficient matmuls, small enough to pad little


class Choice:
    """The state of one generated sequence (one of a request's n choices)."""

    def __init__(self, job, index: int):
        self.job, self.index = job, index
        self.tokens: List[int] = []
        self.logprobs: List[Dict] = []
        self.finish_reason: Optional[str] = None
        self.text: Optional[str] = None  # final text, set when finished
        needs_text = job.stream or bool(job.stop_words)
        self.decoder = IncrementalDecoder(job.tokenizer) if needs_text else None

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None

    def add(self, token: int, logprob: Optional[Dict]) -> None:
        """Append one sampled token and decide whether this choice is finished."""
        job = self.job
        self.tokens.append(token)
        if logprob is not None:
            self.logprobs.append(logprob)
        if token in job.end_ids:
            self._finish('stop', flush=True)
            return
        if self.decoder is not None:
            before = len(self.decoder.text)
            self.decoder.step(token)
            end = find_stop(self.decoder.text, job.stop_words, max(0, before - job.max_stop_len))
            if end is not None:
                self.decoder.text = self.decoder.text[:end]
                self._finish('stop')
                return
        if len(self.tokens) >= job.max_tokens:
            self._finish('length', flush=True)

    def _finish(self, reason: str, flush: bool = False) -> None:
        self.finish_reason = reason
        if self.decoder is not None:
            if flush:
                self.decoder.flush()
            self.text = self.decoder.text
        else:
            ids = self.tokens[:-1] if self.tokens and self.tokens[-1] in self.job.end_ids else self.tokens
            self.text = self.job.tokenizer.decode(ids, skip_special_tokens=False)


def _left_pad(prompts: Sequence[List[int]], pad_id: int, device, width: Optional[int] = None):
    batch = pad_batch([{'input_ids': p} for p in prompts], pad_id, 'left', width)
    return batch['input_ids'].to(device), batch['attention_mask'].to(device)


class Rows:
    """The running rows of a slot batch: their choices, KV cache, last tokens, next positions and sampler."""

    def __init__(self, choices, cache, tokens, next_pos, sampler):
        self.choices, self.cache, self.tokens, self.next_pos, self.sampler = choices, cache, tokens, next_pos, sampler

    def keep(self, index: List[int]) -> Optional['Rows']:
        if not index:
            return None
        if len(index) < len(self.choices):
            at = torch.tensor(index, device=self.tokens.device)
            self.cache.select(at)
            self.sampler.select(at)
            self.choices = [self.choices[i] for i in index]
            self.tokens, self.next_pos = self.tokens[at], self.next_pos[at]
        return self


class DecodeBatch:
    """Runs `choices` (all with the same adapter) to completion; `on_step(choices)` is called after each step.
    `take_more(free_rows)` (optional) returns more choices to join at a step boundary."""

    def __init__(self, model, choices: List[Choice], pad_id: int, on_step,
                 take_more: Optional[Callable[[int], List[Choice]]] = None, max_rows: Optional[int] = None,
                 prefixes: Optional[PrefixStore] = None, adapter: Optional[str] = None):
        self.model, self.choices, self.on_step = model, choices, on_step
        self.device = next(model.parameters()).device
        self.pad_id = pad_id
        self.take_more, self.max_rows = take_more, max_rows or len(choices)
        self.prefixes, self.adapter = prefixes, adapter
        self.attn_impl = getattr(model.config, '_attn_implementation', None)
        self.dtype = getattr(model, 'dtype', None) or torch.float32  # of the activations the mask is added to

    @torch.inference_mode()
    def run(self) -> None:
        if not supports_slots(self.model):
            return self._run_dynamic()
        rows = self._admit_all(self.choices)
        while True:
            if self.take_more is not None and (rows is None or len(rows.choices) < self.max_rows):
                more = self.take_more(self.max_rows - (len(rows.choices) if rows else 0))
                rows = self._combine(rows, self._admit_all(more)) if more else rows
            if rows is None:
                return
            rows = self._decode(rows)

    def _admit_all(self, choices: List[Choice]) -> Optional[Rows]:
        """Prefill new rows into one cache, in groups of similar prompt length (a request's n rows stay together,
        little is spent on padding), then sample their first tokens."""
        jobs = sorted(dict.fromkeys(c.job for c in choices), key=lambda job: len(job.input_ids))
        groups, group = [], []
        for i, job in enumerate(jobs):
            group += [c for c in choices if c.job is job]
            if len(group) >= PREFILL_GROUP or i == len(jobs) - 1:
                groups.append(group)
                group = []
        choices = [c for g in groups for c in g]
        width = max(len(c.job.input_ids) for c in choices)
        cache = SlotCache(num_cache_layers(self.model), len(choices), width + HEADROOM, self.device)
        logits, next_pos, at = [], [], 0
        for g in groups:
            group_logits, group_next = self._prefill(g, cache.rows_view(at, at + len(g)), width)
            logits.append(group_logits)
            next_pos.append(group_next)
            at += len(g)
        cache.length = width
        sampler = BatchSampler([c.job.sampling for c in choices], [c.job.input_ids for c in choices],
                               self._vocab_size(), self.device)
        return self._sample(Rows(choices, cache, None, torch.cat(next_pos), sampler), torch.cat(logits))

    def _prefill(self, choices: List[Choice], cache: SlotCache, width: int):
        """Prefill `choices` into `cache` (their rows of the batch cache, prompts right-aligned at `width`) after
        the cached shared prefix, if any; returns their last logits and next positions."""
        prompts = [c.job.input_ids for c in choices]
        lengths = [len(p) for p in prompts]
        prefix = self.prefixes.lookup(self.model, self.adapter, prompts) if self.prefixes is not None else None
        start = width - max(n - (prefix[0] if prefix else 0) for n in lengths)
        ids, mask = _left_pad(prompts, self.pad_id, self.device, width)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        cache.valid[:, :width] = mask.bool()
        if prefix and start:
            place_prefix(cache, prefix[1], lengths, start, width)
        cache.length = start
        logits = self._forward(ids[:, start:], mask, positions[:, start:], cache)
        return logits, positions[:, -1] + 1

    def _decode(self, rows: Rows) -> Optional[Rows]:
        cache = rows.cache
        cache.reserve(1)
        cache.valid[:, cache.length] = True
        mask = cache.step_mask(self.attn_impl, self.dtype)
        logits = self._forward(rows.tokens[:, None], mask, rows.next_pos[:, None], cache)
        cache.length += 1
        rows.next_pos = rows.next_pos + 1
        return self._sample(rows, logits)

    def _sample(self, rows: Rows, logits: torch.Tensor) -> Optional[Rows]:
        rows.tokens = rows.sampler.sample(logits)
        self._record(rows.choices, rows.tokens, logits)
        self.on_step(rows.choices)
        return rows.keep([i for i, c in enumerate(rows.choices) if not c.finished and not c.job.cancelled])

    def _combine(self, a: Optional[Rows], b: Optional[Rows]) -> Optional[Rows]:
        if a is None or b is None:
            return a or b
        choices = a.choices + b.choices
        sampler = BatchSampler([c.job.sampling for c in choices], [c.job.input_ids for c in choices],
                               self._vocab_size(), self.device, generated=[c.tokens for c in choices])
        return Rows(choices, merge(a.cache, b.cache), torch.cat([a.tokens, b.tokens]),
                    torch.cat([a.next_pos, b.next_pos]), sampler)

    def _run_dynamic(self) -> None:
        prompts = [c.job.input_ids for c in self.choices]
        ids, mask = _left_pad(prompts, self.pad_id, self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        sampler = BatchSampler([c.job.sampling for c in self.choices], prompts, self._vocab_size(), self.device)
        cache = DynamicCache(config=self.model.config)
        logits = self._forward(ids, mask, positions, cache)
        next_pos = positions[:, -1] + 1
        active = list(self.choices)
        while active:
            tokens = sampler.sample(logits)
            self._record(active, tokens, logits)
            self.on_step(active)
            keep = [i for i, c in enumerate(active) if not c.finished and not c.job.cancelled]
            if not keep:
                return
            if len(keep) < len(active):
                index = torch.tensor(keep, device=self.device)
                cache.batch_select_indices(index)
                mask, tokens, next_pos = mask[index], tokens[index], next_pos[index]
                sampler.select(index)
                active = [active[i] for i in keep]
            mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
            logits = self._forward(tokens[:, None], mask, next_pos[:, None], cache)
            next_pos = next_pos + 1

    def _vocab_size(self) -> int:
        return self.model.get_output_embeddings().weight.shape[0]

    def _forward(self, ids, mask, positions, cache) -> torch.Tensor:
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                         use_cache=True, logits_to_keep=1)
        return out.logits[:, -1, :].float()

    def _record(self, active: List[Choice], tokens: torch.Tensor, logits: torch.Tensor) -> None:
        want = any(c.job.config.logprobs for c in active)
        entries = self._logprobs(active, tokens, logits) if want else [None] * len(active)
        for choice, token, entry in zip(active, tokens.tolist(), entries):
            choice.add(token, entry if choice.job.config.logprobs else None)

    def _logprobs(self, active: List[Choice], tokens: torch.Tensor, logits: torch.Tensor) -> List[Dict]:
        """Log-probabilities of the model's raw distribution (before temperature and penalties), as OpenAI."""
        top_n = max((c.job.config.top_logprobs or 0) for c in active)
        logp = logits.log_softmax(-1)
        chosen = logp.gather(-1, tokens[:, None]).squeeze(-1).tolist()
        top_values, top_ids = (logp.topk(top_n, dim=-1) if top_n else (None, None))
        tokenizer = active[0].job.tokenizer
        entries = []
        for i, (choice, token, lp) in enumerate(zip(active, tokens.tolist(), chosen)):
            k = choice.job.config.top_logprobs or 0 if choice.job.config.logprobs else 0
            top = list(zip(top_ids[i, :k].tolist(), top_values[i, :k].tolist())) if k else []
            entries.append(logprob_entry(tokenizer, token, lp, top))
        return entries
