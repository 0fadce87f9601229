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
from .protocol import ChatCompletionRequest, CompletionRequest
from .server_limits import check_api_key, check_limits, final_assistant, parse_json, read_body
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
        check_api_key(request, self.args.api_key)


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
    data = parse_json(await read_body(request, server.args.max_request_bytes))
    parse = parse_completion_request if completion else parse_chat_request
    infer_request, config, stream_options = parse(data, server.args)
    check_limits(config, server.args)
    if not completion:
        final_assistant(infer_request, data)
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


def _body_schema(model) -> Dict[str, Any]:
    """The route's request body in the OpenAPI schema: the pydantic model the handler validates with (the body
    itself is read by the handler, so size, depth and Unicode are checked before pydantic sees it)."""
    schema = model.model_json_schema(ref_template='#/components/schemas/{model}')
    schema.pop('$defs', None)
    return {'requestBody': {'required': True, 'content': {'application/json': {'schema': schema}}}}


def _add_docs(app: FastAPI, server: _Server):
    """Behind --api_key, open `/docs?api_key=<key>`: the page then fetches its schema with the same key, and its
    Authorize button (a bearer scheme in the schema) sends the key with "Try it out" requests."""
    from urllib.parse import quote

    from fastapi.openapi.docs import get_swagger_ui_html

    @app.get('/openapi.json', include_in_schema=False)
    async def openapi(request: Request):
        check_api_key(request, server.args.api_key, query=True)
        schema = app.openapi()
        if server.args.api_key:
            schema.setdefault('components', {})['securitySchemes'] = {'bearer': {'type': 'http', 'scheme': 'bearer'}}
            schema['security'] = [{'bearer': []}]
        return JSONResponse(schema)

    @app.get('/docs', include_in_schema=False)
    async def docs(request: Request):
        check_api_key(request, server.args.api_key, query=True)
        key = request.query_params.get('api_key')
        url = f'/openapi.json?api_key={quote(key)}' if key else '/openapi.json'
        return get_swagger_ui_html(openapi_url=url, title='swift deploy')


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

    # the docs are served by routes below, behind --api_key like the API they describe
    app = FastAPI(title='swift deploy', lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.server = server
    _add_error_handlers(app)
    _add_docs(app, server)

    @app.get('/v1/models')
    async def models(request: Request):
        server.check_auth(request)
        return server.model_cards()

    @app.post('/v1/chat/completions', openapi_extra=_body_schema(ChatCompletionRequest))
    async def chat_completions(request: Request):
        return await _handle(server, request, completion=False)

    @app.post('/v1/completions', openapi_extra=_body_schema(CompletionRequest))
    async def completions(request: Request):
        return await _handle(server, request, completion=True)

    @app.get('/health')
    async def health():
        return {'status': 'ok'}

    return app
