"""A pt-engine request in flight: resolved settings, its n choices, and the responses/chunks it emits."""
from typing import List, Optional

import torch

from swift.utils import ArgumentError
from .assemble import Assembler, ChoiceState
from .protocol import ChatCompletionResponse, InferRequest, RequestConfig, UsageInfo, random_uuid
from .pt_batch import Choice
from .sampling import SamplingParams
from .utils import text_stop_words

DONE = object()  # end of a stream


class Job:

    def __init__(self, engine, request: InferRequest, config: RequestConfig, adapter: Optional[str], sink):
        self.engine, self.request, self.adapter, self.sink = engine, request, adapter, sink
        self.id = f'chatcmpl-{random_uuid()}'
        self.tokenizer = engine.tokenizer
        self.config = config = _resolve(config, engine.default_config, engine.generation_config)
        row = request.to_row()
        self.input_ids = engine.template.encode(row, mode='infer')['input_ids']
        self.prefill = engine.template.tool_prefill(row)  # a forced tool call's start, part of the output
        room = engine.max_model_len - len(self.input_ids)
        if room <= 0:
            raise ArgumentError(f'The prompt has {len(self.input_ids)} tokens, which leaves no room to generate '
                                f'within the max length {engine.max_model_len}; shorten the messages.')
        self.max_tokens = min(config.max_tokens or room, room)
        self.end_ids = engine.end_ids
        self.stop_words = text_stop_words(engine.template, engine.end_ids, config.stop)
        self.max_stop_len = max((len(w) for w in self.stop_words), default=0)
        self.stream = config.stream
        self.beam = config.num_beams > 1
        generator = None
        if config.seed is not None:
            device = next(engine.model.parameters()).device
            generator = torch.Generator(device=device).manual_seed(config.seed)
        self.sampling = SamplingParams(config.temperature, config.top_k or 0, config.top_p, config.repetition_penalty,
                                       config.presence_penalty, config.frequency_penalty, generator)
        self.cancelled = self.done = False
        self.assembler = Assembler(engine.model_name, request, engine.tool_format, self.prefill,
                                   bool(config.logprobs), self.id)
        self.choices: List[Choice] = [Choice(self, i) for i in range(config.n)]

    # ----- outputs -----
    def usage(self) -> UsageInfo:
        completion = sum(len(c.tokens) for c in self.choices)
        prompt = len(self.input_ids)
        return UsageInfo(prompt, completion, prompt + completion)

    def emit_step(self) -> None:
        if self.done:
            return
        finished = all(c.finished for c in self.choices)
        if self.stream:
            chunk = self.assembler.chunk(self._states(), self.usage())
            if chunk is not None:
                self.sink(chunk)
        if finished:
            self.done = True
            self.sink(DONE if self.stream else self.response())

    def response(self) -> ChatCompletionResponse:
        return self.assembler.response(self._states(), self.usage())

    def _states(self) -> List[ChoiceState]:
        return [ChoiceState(c.index, c.text if c.finished else c.decoder.text, c.finish_reason, c.logprobs)
                for c in self.choices]


def _resolve(config: RequestConfig, default: RequestConfig, generation_config) -> RequestConfig:
    """Fill unset fields from the engine defaults (command line), then generation_config.json."""
    values = config.with_defaults(default).__dict__
    do_sample = bool(getattr(generation_config, 'do_sample', False))
    if values['temperature'] is None:
        values['temperature'] = (getattr(generation_config, 'temperature', None) or 1.) if do_sample else 0.
    if values['top_k'] is None:
        values['top_k'] = (getattr(generation_config, 'top_k', None) or 0) if do_sample else 0
    if values['top_p'] is None:
        values['top_p'] = (getattr(generation_config, 'top_p', None) or 1.) if do_sample else 1.
    if values['repetition_penalty'] is None:
        values['repetition_penalty'] = getattr(generation_config, 'repetition_penalty', None) or 1.
    out = RequestConfig(**values)
    _check(out)
    return out


def _check(config: RequestConfig) -> None:
    checks = [(config.n >= 1, 'n must be >= 1'), (config.temperature >= 0, 'temperature must be >= 0'),
              (0 < config.top_p <= 1, 'top_p must be in (0, 1]'), (config.top_k >= 0, 'top_k must be >= 0'),
              (config.repetition_penalty > 0, 'repetition_penalty must be > 0'),
              (config.max_tokens is None or config.max_tokens >= 1, 'max_tokens must be >= 1'),
              (config.num_beams >= 1, 'num_beams must be >= 1'),
              (config.num_beams == 1 or config.n <= config.num_beams, 'n must be <= num_beams'),
              (config.top_logprobs is None or 0 <= config.top_logprobs <= 20, 'top_logprobs must be in [0, 20]')]
    for ok, message in checks:
        if not ok:
            raise ArgumentError(f'Invalid request: {message}.')


@torch.inference_mode()
def beam_search(model, job: Job) -> None:
    """num_beams > 1: transformers' beam search for this one request; its n best beams are the choices."""
    device = next(model.parameters()).device
    ids = torch.tensor([job.input_ids], device=device)
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), num_beams=job.config.num_beams,
                         num_return_sequences=job.config.n, max_new_tokens=job.max_tokens, do_sample=False,
                         eos_token_id=sorted(job.end_ids), pad_token_id=sorted(job.end_ids)[0])
    for choice, seq in zip(job.choices, out[:, ids.shape[1]:].tolist()):
        for token in seq:
            if choice.finished:
                break
            choice.add(token, None)
        if not choice.finished:
            choice.finish_reason = 'length'
            choice.text = choice.decoder.text if choice.decoder else job.tokenizer.decode(seq)
    job.emit_step()
