"""The OpenAI-compatible HTTP API over any InferEngine: `build_app(engine, args) -> FastAPI`.

Bad input always answers 4xx with an OpenAI error body ({"error": {message, type, param, code}}), never a 500.
"""
import asyncio
import json
import time
from typing import Any, AsyncIterator, Dict, Optional

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from swift.utils import SwiftError, get_logger
from .server_protocol import (OpenAIError, ServerStats, check_model, parse_chat_request, parse_completion_request,
                              split_tool_call_deltas, to_jsonable)

logger = get_logger()


class _Server:
    """State shared by the routes: engine, names and throughput counters. The engine owns the adapters (merged
    ones are part of its model and no longer listed)."""

    def __init__(self, engine, args):
        self.engine = engine
        self.args = args
        self.model_name = args.served_model_name
        self.stats = ServerStats()

    @property
    def adapters(self) -> Dict[str, str]:
        return self.engine.adapters

    def model_cards(self):
        names = [self.model_name] + list(self.adapters)
        created = int(time.time())
        return {'object': 'list',
                'data': [{'id': n, 'object': 'model', 'created': created, 'owned_by': self.args.owned_by}
                         for n in names]}

    def adapter_request(self, model: Optional[str]):
        name = check_model(model, self.model_name, self.adapters)
        if name == self.model_name:
            return None
        from .protocol import AdapterRequest
        return AdapterRequest(name, self.adapters[name])

    def check_auth(self, request: Request):
        key = self.args.api_key
        if not key:
            return
        header = request.headers.get('authorization', '')
        if header != f'Bearer {key}':
            what = 'missing' if not header else 'incorrect'
            raise OpenAIError(401, f'{what.capitalize()} API key: send the header `Authorization: Bearer <key>` '
                              'with the key given to --api_key.', code='invalid_api_key')


async def _json_body(request: Request) -> Dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise OpenAIError(400, f'The request body is not valid JSON ({e}).') from None
    if not isinstance(data, dict):
        raise OpenAIError(400, 'The request body must be a JSON object.')
    return data


async def _run_until_disconnect(request: Request, coro):
    """Await the engine, cancelling it when the client goes away so its batch slot is freed."""
    task = asyncio.ensure_future(coro)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.2)
            if done:
                return task.result()
            if await request.is_disconnected():
                task.cancel()
                raise OpenAIError(499, 'The client closed the request.')
    finally:
        if not task.done():
            task.cancel()


async def _sse(server: _Server, request: Request, first, chunks: AsyncIterator, *, model: str,
               include_usage: bool, completion: bool) -> AsyncIterator[str]:
    last = data = None
    try:
        async for chunk in _prepend(first, chunks):
            last = chunk
            data = to_jsonable(chunk.to_completion() if completion else chunk)
            data['model'] = model
            data.pop('usage', None)
            if include_usage:
                data['usage'] = None
            for part in split_tool_call_deltas(data):
                if part['choices']:
                    yield f'data: {json.dumps(part, ensure_ascii=False)}\n\n'
            if await request.is_disconnected():
                return
        usage = to_jsonable(last.usage) if last is not None else None
        server.stats.finish(usage)
        if include_usage and data is not None:
            tail = {'id': data['id'], 'object': data['object'], 'created': data['created'], 'model': model,
                    'choices': [], 'usage': usage}
            yield f'data: {json.dumps(tail)}\n\n'
        yield 'data: [DONE]\n\n'
    except SwiftError as e:  # the headers are sent already: report the error in the stream
        yield f'data: {json.dumps(OpenAIError(400, str(e)).body())}\n\n'
    finally:
        server.stats.running -= 1
        with anyio.CancelScope(shield=True):  # a cancelled stream must still release its engine slot
            await chunks.aclose()


async def _start(server: _Server, request: Request, infer_request, config, adapter):
    """The engine's response; for a stream, its first chunk is awaited here so that input errors (prompt too
    long, ...) still answer 400 before the 200 headers go out."""
    result = await server.engine.infer_async(infer_request, config, adapter_request=adapter)
    if not config.stream:
        return result
    try:
        first = await result.__anext__()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await result.aclose()
        raise
    return first, result


async def _prepend(first, rest: AsyncIterator) -> AsyncIterator:
    yield first
    async for chunk in rest:
        yield chunk


async def _handle(server: _Server, request: Request, completion: bool):
    server.check_auth(request)
    data = await _json_body(request)
    parse = parse_completion_request if completion else parse_chat_request
    infer_request, config, stream_options = parse(data, server.args)
    model = data.get('model') or server.model_name
    adapter = server.adapter_request(model)
    if server.args.verbose:
        logger.info(f'request {request.url.path}: model={model} stream={config.stream} '
                    f'max_tokens={config.max_tokens} n={config.n}')
    server.stats.running += 1
    try:
        result = await _run_until_disconnect(request, _start(server, request, infer_request, config, adapter))
    except BaseException:
        server.stats.running -= 1
        raise
    if config.stream:
        include_usage = bool((stream_options or {}).get('include_usage'))
        body = _sse(server, request, *result, model=model, include_usage=include_usage, completion=completion)
        return StreamingResponse(body, media_type='text/event-stream', headers={'Cache-Control': 'no-cache'})
    server.stats.running -= 1
    data = to_jsonable(result.to_completion() if completion else result)
    data['model'] = model
    server.stats.finish(data.get('usage'))
    return JSONResponse(data)


def _error_response(e: OpenAIError) -> JSONResponse:
    return JSONResponse(e.body(), status_code=e.status)


def _add_error_handlers(app: FastAPI):

    @app.exception_handler(OpenAIError)
    async def openai_error(_request, e: OpenAIError):
        return _error_response(e)

    @app.exception_handler(SwiftError)
    async def swift_error(_request, e: SwiftError):  # e.g. the prompt is longer than --max_length
        return _error_response(OpenAIError(400, str(e)))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, e: StarletteHTTPException):
        return _error_response(OpenAIError(e.status_code, str(e.detail), type='not_found_error'
                                           if e.status_code == 404 else 'invalid_request_error'))

    @app.exception_handler(Exception)
    async def internal_error(_request, e: Exception):
        logger.exception('internal error while serving a request')
        return _error_response(OpenAIError(500, f'Internal server error: {type(e).__name__}: {e}',
                                           type='server_error'))


def build_app(engine, args) -> FastAPI:
    """args: DeployArguments (served_model_name, owned_by, api_key, max_logprobs, log_interval, verbose,
    adapters)."""
    server = _Server(engine, args)

    async def lifespan(_app):
        task = None
        if args.log_interval and args.log_interval > 0:
            task = asyncio.create_task(server.stats.log_forever(args.log_interval))
        yield
        if task is not None:
            task.cancel()

    app = FastAPI(title='swift deploy', lifespan=lifespan)
    app.state.server = server
    _add_error_handlers(app)

    @app.get('/v1/models')
    async def models(request: Request):
        server.check_auth(request)
        return server.model_cards()

    @app.post('/v1/chat/completions')
    async def chat_completions(request: Request):
        return await _handle(server, request, completion=False)

    @app.post('/v1/completions')
    async def completions(request: Request):
        return await _handle(server, request, completion=True)

    @app.get('/health')
    async def health():
        return {'status': 'ok'}

    return app
