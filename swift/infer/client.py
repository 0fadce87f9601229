"""InferClient: the InferEngine interface over any OpenAI-compatible HTTP server (`swift deploy`, vLLM, ...).

The request's adapter name (AdapterRequest.name) is sent as the OpenAI `model` field."""
from typing import List, Optional

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
        body = dict(messages=request.messages, max_tokens=config.max_tokens, temperature=config.temperature,
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
