"""InferEngine: the one interface of the pt/vllm/lmdeploy engines and the HTTP client.

`infer(requests, config)` -> one ChatCompletionResponse per request (or, with `config.stream`, one iterator of
ChatCompletionStreamResponse chunks per request); `await infer_async(request, config)` -> a response or an async
iterator of chunks. Engines implement `infer_async`; the synchronous `infer` here drives it on a private event
loop thread (PtEngine overrides it to hand every request to its batch scheduler at once).
"""
from abc import ABC, abstractmethod
import asyncio
import threading
from typing import AsyncIterator, Dict, Iterator, List, Optional, Union

from swift.utils import get_logger
from .protocol import AdapterRequest, ChatCompletionResponse, ChatCompletionStreamResponse, InferRequest, RequestConfig

logger = get_logger()
Response = Union[ChatCompletionResponse, Iterator[ChatCompletionStreamResponse]]
AsyncResponse = Union[ChatCompletionResponse, AsyncIterator[ChatCompletionStreamResponse]]


class InferEngine(ABC):
    """Base class. Subclasses set `model_name` (the name servers report) and implement `infer_async`. The engine
    owns its adapters: `adapters` maps the names requests may ask for (`AdapterRequest.name`) to their paths."""
    model_name: str = 'model'
    max_batch_size: int = 1
    adapters: Dict[str, str] = {}

    @abstractmethod
    async def infer_async(self, infer_request: InferRequest, request_config: Optional[RequestConfig] = None, *,
                          adapter_request: Optional[AdapterRequest] = None) -> AsyncResponse:
        """One response, or an async iterator of chunks when request_config.stream."""

    def infer(self, infer_requests: List[InferRequest], request_config: Optional[RequestConfig] = None, *,
              adapter_request: Optional[AdapterRequest] = None, use_tqdm: bool = False) -> List[Response]:
        request_config = request_config or RequestConfig()
        loop = self._loop()
        futures = [
            asyncio.run_coroutine_threadsafe(self.infer_async(r, request_config, adapter_request=adapter_request),
                                             loop) for r in infer_requests
        ]
        results = [f.result() for f in _progress(futures, use_tqdm)]
        if request_config.stream:
            return [_sync_iter(agen, loop) for agen in results]
        return results

    def _loop(self) -> asyncio.AbstractEventLoop:
        """A private event loop on a daemon thread, started on first use."""
        if getattr(self, '_event_loop', None) is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, daemon=True, name='swift-infer-loop').start()
            self._event_loop = loop
        return self._event_loop

    def close(self) -> None:
        loop = getattr(self, '_event_loop', None)
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
            self._event_loop = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _sync_iter(agen, loop) -> Iterator:
    # run_coroutine_threadsafe takes coroutines only, not the awaitables __anext__/aclose return
    async def step(awaitable):
        return await awaitable

    try:
        while True:
            try:
                yield asyncio.run_coroutine_threadsafe(step(agen.__anext__()), loop).result()
            except StopAsyncIteration:
                return
    finally:  # the caller stopped early: let the engine free the request
        asyncio.run_coroutine_threadsafe(step(agen.aclose()), loop).result()


def _progress(items, use_tqdm: bool):
    if not use_tqdm:
        return items
    from tqdm import tqdm
    return tqdm(items, desc='infer')
