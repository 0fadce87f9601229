"""InferClient: the InferEngine interface over any OpenAI-compatible HTTP server (`swift deploy`, vLLM, ...).

The request's adapter name (AdapterRequest.name) is sent as the OpenAI `model` field."""
from typing import List, Optional

from swift.utils import SwiftError
from .engine import InferEngine
from .protocol import (AdapterRequest, ChatCompletionMessageToolCall, ChatCompletionResponse,
                       ChatCompletionResponseChoice, ChatCompletionResponseStreamChoice, ChatCompletionStreamResponse,
                       ChatMessage, DeltaMessage, Function, InferRequest, RequestConfig, UsageInfo)


class InferClient(InferEngine):

    def __init__(self, host: str = '127.0.0.1', port: int = 8000, api_key: str = 'EMPTY',
                 base_url: Optional[str] = None, timeout: float = 600.):
        from openai import AsyncOpenAI
        self.base_url = base_url or f'http://{host}:{port}/v1'
        self.client = AsyncOpenAI(api_key=api_key, base_url=self.base_url, timeout=timeout)
        self._models: Optional[List[str]] = None

    @property
    def models(self) -> List[str]:
        """Model names the server lists (the base model first, then adapters)."""
        if self._models is None:
            import asyncio
            asyncio.run_coroutine_threadsafe(self._list_models(), self._loop()).result()
        return self._models

    async def _list_models(self) -> List[str]:
        # a coroutine (the paginator openai returns is only awaitable), safe to await on the engine's loop
        if self._models is None:
            page = await self.client.models.list()
            self._models = [m.id for m in page.data]
        return self._models

    @property
    def model_name(self) -> str:
        return self.models[0]

    def _body(self, request: InferRequest, config: RequestConfig) -> dict:
        messages = media_messages(request.messages, request.images) if request.images else request.messages
        if request.videos:
            raise SwiftError('InferClient sends images only; give videos to a local engine.')
        body = dict(messages=messages, max_tokens=config.max_tokens, temperature=config.temperature,
                    top_p=config.top_p, n=config.n, stop=config.stop or None, seed=config.seed, stream=config.stream,
                    presence_penalty=config.presence_penalty, frequency_penalty=config.frequency_penalty)
        if request.tools:
            body['tools'] = request.tools
            if request.tool_choice is not None:
                body['tool_choice'] = request.tool_choice
            if not request.parallel_tool_calls:
                body['parallel_tool_calls'] = False
        if config.logprobs:
            body.update(logprobs=True, top_logprobs=config.top_logprobs)
        if config.stream:
            body['stream_options'] = {'include_usage': True}
        extra = {k: v for k, v in (('top_k', config.top_k), ('repetition_penalty', config.repetition_penalty))
                 if v is not None}
        if config.num_beams > 1:
            extra['num_beams'] = config.num_beams
        if extra:
            body['extra_body'] = extra
        return {k: v for k, v in body.items() if v is not None}

    async def infer_async(self, infer_request: InferRequest, request_config: Optional[RequestConfig] = None, *,
                          adapter_request: Optional[AdapterRequest] = None):
        config = request_config or RequestConfig()
        model = adapter_request.name if adapter_request else (await self._list_models())[0]
        result = await self.client.chat.completions.create(model=model, **self._body(infer_request, config))
        if config.stream:
            return _chunks(result)
        return _response(result)

    def close(self) -> None:
        super().close()


def media_messages(messages: List[dict], images: list) -> List[dict]:
    """`<image>` tags + images -> OpenAI content parts with data URLs (the server may be on another machine, so
    local files travel as their bytes). Images without tags go before the first user message's text."""
    import re
    tags = sum(m.get('content').count('<image>') for m in messages if isinstance(m.get('content'), str))
    if tags and tags != len(images):
        raise SwiftError(f'The request has {len(images)} images but {tags} <image> tags; give one tag per image.')
    urls, out = iter([to_data_url(ref) for ref in images]), []
    first_user = next((i for i, m in enumerate(messages) if m.get('role') == 'user'), None)
    for i, m in enumerate(messages):
        text = m.get('content')
        if not tags and i == first_user:
            text = '<image>' * len(images) + (text or '')
        if not isinstance(text, str) or '<image>' not in text:
            out.append(m)
            continue
        parts = [{'type': 'image_url', 'image_url': {'url': next(urls)}} if piece == '<image>' else
                 {'type': 'text', 'text': piece} for piece in re.split(r'(<image>)', text) if piece]
        out.append({**m, 'content': parts})
    return out


def to_data_url(ref) -> str:
    import base64
    import io
    if isinstance(ref, str) and ref.startswith('data:'):
        return ref
    from swift.template.vision import load_image
    buf = io.BytesIO()
    load_image(ref).save(buf, format='PNG')
    return 'data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode()


def _tool_calls(calls) -> Optional[List[ChatCompletionMessageToolCall]]:
    if not calls:
        return None
    return [ChatCompletionMessageToolCall(Function(c.function.name, c.function.arguments), id=c.id) for c in calls
            if c.function is not None]


def _logprobs(logprobs) -> Optional[dict]:
    return None if logprobs is None else logprobs.model_dump()


def _usage(usage) -> Optional[UsageInfo]:
    return None if usage is None else UsageInfo(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)


def _response(r) -> ChatCompletionResponse:
    choices = [ChatCompletionResponseChoice(
        c.index, ChatMessage('assistant', c.message.content, _tool_calls(c.message.tool_calls)), c.finish_reason,
        _logprobs(c.logprobs)) for c in r.choices]
    return ChatCompletionResponse(r.model, choices, _usage(r.usage) or UsageInfo(), id=r.id, created=r.created)


async def _chunks(stream):
    async for chunk in stream:
        choices = [ChatCompletionResponseStreamChoice(
            c.index, DeltaMessage(c.delta.role, c.delta.content, _tool_calls(c.delta.tool_calls)), c.finish_reason,
            _logprobs(c.logprobs)) for c in chunk.choices]
        yield ChatCompletionStreamResponse(chunk.model, choices, _usage(chunk.usage), id=chunk.id,
                                           created=chunk.created)
