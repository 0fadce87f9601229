"""What one request may ask of `swift deploy`: body size, JSON shape, sampling caps, a trailing assistant message.

Everything here answers 4xx (OpenAIError) before the engine sees the request, so hostile or mistaken input never
reaches torch or the tokenizer as a 500. The flags are in swift/arguments/deploy_args.py (docs/failure-behaviour.md).
"""
import hmac
import json
from typing import Any, Dict, Optional

from fastapi import Request

from .protocol import InferRequest, RequestConfig
from .server_protocol import OpenAIError

MAX_JSON_DEPTH = 64  # OpenAI bodies nest a few levels (tools' JSON schemas a few more)
# torch.Generator.manual_seed takes any int64 or uint64
SEED_MIN, SEED_MAX = -2**63, 2**64 - 1


def check_api_key(request: Request, key: Optional[str], *, query: bool = False) -> None:
    """Constant-time comparison, so the key cannot be guessed byte by byte from response times. `query`: the docs
    pages also take `?api_key=<key>`, since a browser opening /docs sends no Authorization header."""
    if not key:
        return
    header = request.headers.get('authorization', '')
    if query and not header and 'api_key' in request.query_params:
        header = f'Bearer {request.query_params["api_key"]}'
    if not hmac.compare_digest(header.encode('utf-8', 'surrogateescape'), f'Bearer {key}'.encode()):
        what = 'missing' if not header else 'incorrect'
        raise OpenAIError(401, f'{what.capitalize()} API key: send the header `Authorization: Bearer <key>` '
                          'with the key given to --api_key.', code='invalid_api_key')


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 once it passes `limit` bytes (announced or actually sent)."""
    too_big = OpenAIError(413, f'The request body is larger than the server\'s limit of {limit} bytes '
                          '(--max_request_bytes); send a shorter prompt.', code='request_too_large')
    length = request.headers.get('content-length')
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b''.join(chunks)


def parse_json(raw: bytes) -> Dict[str, Any]:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise OpenAIError(400, f'The request body is not valid JSON ({e}).') from None
    except RecursionError:
        raise OpenAIError(400, f'The request body nests deeper than {MAX_JSON_DEPTH} levels.') from None
    if not isinstance(data, dict):
        raise OpenAIError(400, 'The request body must be a JSON object.')
    _check_tree(data)
    return data


def _check_tree(data: Any) -> None:
    """Depth limit and no lone UTF-16 surrogates ("\\ud800" is valid JSON but no text a tokenizer can take)."""
    stack = [(data, '', 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise OpenAIError(400, f'The request body nests deeper than {MAX_JSON_DEPTH} levels (at {path}).')
        if isinstance(value, dict):
            stack += [(v, f'{path}.{k}' if path else str(k), depth + 1) for k, v in value.items()]
            for k in value:
                _check_text(k, path or 'body')
        elif isinstance(value, list):
            stack += [(v, f'{path}.{i}', depth + 1) for i, v in enumerate(value)]
        elif isinstance(value, str):
            _check_text(value, path)


def _check_text(text: str, path: str) -> None:
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        raise OpenAIError(400, f'`{path}` contains a lone UTF-16 surrogate (e.g. "\\ud800"), which is not text; '
                          'send valid Unicode.', param=path) from None


def check_limits(config: RequestConfig, args) -> None:
    """The server's caps: --max_tokens_limit (default --max_new_tokens), --max_n, --max_num_beams; seed range."""
    cap = args.max_tokens_limit or args.max_new_tokens
    if cap and config.max_tokens is not None and config.max_tokens > cap:
        flag = '--max_tokens_limit' if args.max_tokens_limit else '--max_new_tokens (or a larger --max_tokens_limit)'
        _limit('max_tokens', config.max_tokens, f'at most {cap}, the server\'s {flag}')
    if config.n > args.max_n:
        _limit('n', config.n, f'at most {args.max_n} (the server\'s --max_n)')
    if config.num_beams > args.max_num_beams:
        _limit('num_beams', config.num_beams, f'at most {args.max_num_beams} (the server\'s --max_num_beams)')
    if config.seed is not None and not SEED_MIN <= config.seed <= SEED_MAX:
        _limit('seed', config.seed, 'a 64-bit integer')


def _limit(param: str, value, what: str):
    raise OpenAIError(400, f'`{param}` must be {what}, got {value!r:.40}.', param=param)


def final_assistant(infer_request: InferRequest, data: Dict[str, Any]) -> None:
    """A trailing assistant message is a prefix the model continues (vLLM's `continue_final_message`), or a 400:
    it is never silently dropped."""
    messages = infer_request.messages
    trailing = bool(messages) and messages[-1].get('role') == 'assistant'
    flag = data.get('continue_final_message', False)
    if not isinstance(flag, bool):
        raise OpenAIError(400, f'`continue_final_message` must be true or false, got {flag!r:.40}.',
                          param='continue_final_message')
    if flag and not trailing:
        raise OpenAIError(400, '`continue_final_message` needs the last message to be an assistant message.',
                          param='continue_final_message')
    if trailing and not flag:
        raise OpenAIError(400, 'The last message is an assistant message: send `"continue_final_message": true` '
                          'to continue it, or drop it to get a new answer.', param='messages')
    raw = data.get('messages') or [{}]
    if trailing and isinstance(raw[-1], dict) and raw[-1].get('tool_calls'):
        raise OpenAIError(400, 'An assistant message with tool_calls cannot be continued.', param='messages')
    infer_request.continue_final_message = flag
