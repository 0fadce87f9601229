"""Responses and stream chunks from what an engine generated so far: one place for every engine (pt, vllm,
lmdeploy), so tool-call parsing, finish reasons, roles and logprobs read the same whichever engine ran."""
from typing import Dict, List, NamedTuple, Optional

from .protocol import (ChatCompletionResponse, ChatCompletionResponseChoice, ChatCompletionResponseStreamChoice,
                       ChatCompletionStreamResponse, ChatMessage, DeltaMessage, InferRequest, UsageInfo)
from .tool_call import parse_output, streamable


class ChoiceState(NamedTuple):
    """One choice as generated so far: cumulative text and logprob entries, finish_reason once finished."""
    index: int
    text: str
    finish_reason: Optional[str]
    logprobs: List[Dict]


class Assembler:
    """Turns the cumulative choices of one request into the final response or into stream chunks."""

    def __init__(self, model_name: str, request: InferRequest, tool_format, prefill: str, with_logprobs: bool,
                 request_id: str):
        self.model_name, self.request, self.tool_format, self.prefill = model_name, request, tool_format, prefill
        self.with_logprobs, self.request_id = with_logprobs, request_id
        self._sent: Dict[int, tuple] = {}  # index -> (characters, logprob entries) already streamed; None: done

    def _parse(self, text: str):
        return parse_output(self.request, text, self.tool_format, self.prefill)

    def response(self, choices: List[ChoiceState], usage: UsageInfo) -> ChatCompletionResponse:
        out = []
        for c in choices:
            content, calls = self._parse(c.text)
            out.append(ChatCompletionResponseChoice(
                c.index, ChatMessage('assistant', content, calls), 'tool_calls' if calls else c.finish_reason,
                {'content': c.logprobs} if self.with_logprobs else None))
        return ChatCompletionResponse(self.model_name, out, usage, id=self.request_id)

    def chunk(self, choices: List[ChoiceState], usage: UsageInfo) -> Optional[ChatCompletionStreamResponse]:
        """The next chunk (None when nothing new): new text, new logprobs, and the parsed tool calls with the
        last chunk of a choice (with tools, content stops at a tool-call marker)."""
        out = [c for c in (self._stream_choice(c) for c in choices) if c is not None]
        return ChatCompletionStreamResponse(self.model_name, out, usage, id=self.request_id) if out else None

    def _stream_choice(self, c: ChoiceState) -> Optional[ChatCompletionResponseStreamChoice]:
        first = c.index not in self._sent
        state = self._sent.get(c.index, (0, 0))
        if state is None:
            return None
        chars, n_lp = state
        text, calls, finish = c.text, None, None
        if c.finish_reason is None:
            upto = len(text)
            if self.request.tools:  # whitespace before a tool call is stripped from the parsed content: hold it
                upto = streamable(self.request, text, self.tool_format, self.prefill)
                upto = max(chars, len(text[:upto].rstrip()))
            content = text[chars:upto]
        elif self.request.tools:
            parsed, calls = self._parse(text)
            parsed = parsed or ''
            content, upto = (parsed[chars:] if parsed.startswith(text[:chars]) else ''), len(text)
        else:
            content, upto = text[chars:], len(text)
        if c.finish_reason is not None:
            finish = 'tool_calls' if calls else c.finish_reason
        new_lp = c.logprobs[n_lp:]
        if not (content or finish or new_lp):
            return None
        self._sent[c.index] = None if finish else (max(chars, upto), len(c.logprobs))
        delta = DeltaMessage('assistant' if first else None, content, calls)
        return ChatCompletionResponseStreamChoice(c.index, delta, finish,
                                                  {'content': new_lp} if self.with_logprobs else None)
