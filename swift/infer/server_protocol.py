"""Request validation, OpenAI error bodies and throughput counters for swift/infer/server.py."""
import asyncio
import time
from typing import Any, Dict, List, Optional, Tuple

from pydantic import ValidationError

from swift.utils import get_logger
from .protocol import ChatCompletionRequest, CompletionRequest, InferRequest, RequestConfig

logger = get_logger()


class OpenAIError(Exception):
    """An error answered as OpenAI does: {"error": {"message", "type", "param", "code"}}."""

    def __init__(self, status: int, message: str, *, type: str = 'invalid_request_error',
                 param: Optional[str] = None, code: Optional[str] = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code

    def body(self) -> Dict[str, Any]:
        return {'error': {'message': self.message, 'type': self.type, 'param': self.param, 'code': self.code}}


def to_jsonable(obj) -> Any:
    if obj is None or isinstance(obj, (dict, list)):
        return obj
    return obj.model_dump() if hasattr(obj, 'model_dump') else obj.to_dict()


def check_model(model: Optional[str], served: str, adapters: Dict[str, str]) -> str:
    if model is None or model == served or model in adapters:
        return model or served
    names = ', '.join([served] + list(adapters))
    raise OpenAIError(400, f'The model {model!r} does not exist on this server; use one of: {names} '
                      '(GET /v1/models lists them).', param='model', code='model_not_found')


def _validate(model_cls, data: Dict[str, Any]):
    try:
        return model_cls.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        param = '.'.join(str(p) for p in err['loc'])
        raise OpenAIError(400, f'Invalid request: {param}: {err["msg"]} (got {err.get("input")!r:.80}).',
                          param=param) from None


def _messages(messages) -> list:
    """OpenAI messages -> canonical ones through the dataset layer's normaliser: text content parts are joined,
    an assistant's structured `tool_calls` (with `content: null`) are kept for the template to render."""
    from swift.dataset.messages import normalize_message, normalize_messages
    if not messages:
        raise OpenAIError(400, '`messages` must be a non-empty list of messages.', param='messages')
    for i, message in enumerate(messages):
        try:
            normalize_message(message)
        except Exception as e:  # RowError: one line saying what is wrong with the message
            raise OpenAIError(400, f'messages[{i}]: {e}.', param=f'messages.{i}') from None
    return normalize_messages(messages)


def _check_tool_choice(req: ChatCompletionRequest) -> None:
    choice = req.tool_choice
    if choice in (None, 'none', 'auto'):
        return
    if choice == 'required' or isinstance(choice, dict):
        if not req.tools:
            raise OpenAIError(400, '`tool_choice` needs `tools`.', param='tool_choice')
        name = (choice.get('function') or {}).get('name') if isinstance(choice, dict) else None
        names = [(t.get('function') or t).get('name') for t in req.tools if isinstance(t, dict)]
        if choice == 'required' or name in names:
            return
        raise OpenAIError(400, f'`tool_choice` names {name!r}, which is not in `tools` ({", ".join(map(str, names))}).',
                          param='tool_choice')
    raise OpenAIError(400, "`tool_choice` must be 'none', 'auto', 'required' or "
                      '{"type": "function", "function": {"name": ...}}.', param='tool_choice')


def split_tool_call_deltas(chunk: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A stream chunk whose delta holds complete tool calls -> the OpenAI sequence of chunks: content first, then
    per call one delta with index, id, type and name, one with its arguments, and last the finish_reason."""
    plain, extra = [], []
    for choice in chunk['choices']:
        delta = choice.get('delta') or {}
        calls = delta.get('tool_calls')
        if not calls:
            plain.append(choice)
            continue
        head = {**choice, 'delta': {k: v for k, v in delta.items() if k != 'tool_calls'}, 'finish_reason': None}
        if head['delta'].get('content') or head['delta'].get('role'):
            plain.append(head)
        step = {'index': choice['index'], 'finish_reason': None, 'logprobs': None}
        for k, call in enumerate(calls):
            fn = call.get('function') or {}
            header = {'index': k, 'id': call.get('id'), 'type': 'function',
                      'function': {'name': fn.get('name'), 'arguments': ''}}
            extra.append({**step, 'delta': {'tool_calls': [header]}})
            extra.append({**step, 'delta': {'tool_calls': [{'index': k, 'function': {
                'arguments': fn.get('arguments') or ''}}]}})
        extra.append({**step, 'delta': {}, 'finish_reason': choice.get('finish_reason')})
    chunks = [{**chunk, 'choices': plain}] if plain else []
    return chunks + [{**chunk, 'choices': [c]} for c in extra]


def _check_config(config: RequestConfig, max_logprobs: int) -> None:
    checks = [
        (config.n >= 1, 'n', 'must be >= 1'),
        (config.max_tokens is None or config.max_tokens >= 1, 'max_tokens', 'must be >= 1'),
        (config.temperature is None or config.temperature >= 0, 'temperature', 'must be >= 0'),
        (config.top_p is None or 0 < config.top_p <= 1, 'top_p', 'must be in (0, 1]'),
        (config.top_k is None or config.top_k >= -1, 'top_k', 'must be >= 0 (or -1 for off)'),
        (config.num_beams >= 1, 'num_beams', 'must be >= 1'),
        (config.top_logprobs is None or 0 <= config.top_logprobs <= max_logprobs, 'top_logprobs',
         f'must be between 0 and {max_logprobs} (the server\'s --max_logprobs)'),
    ]
    for ok, param, what in checks:
        if not ok:
            raise OpenAIError(400, f'`{param}` {what}, got {getattr(config, param)!r}.', param=param)


def parse_chat_request(data: Dict[str, Any], args) -> Tuple[InferRequest, RequestConfig, Optional[dict]]:
    data = {'model': args.served_model_name, **data}
    req = _validate(ChatCompletionRequest, data)
    _check_tool_choice(req)
    infer_request, config = req.parse()
    from .server_media import request_media, split_media
    messages, images, videos = split_media(req.messages, args.max_request_bytes)
    infer_request.messages = _messages(messages)
    infer_request.images, infer_request.videos = request_media(req, images, videos, args.max_request_bytes)
    _check_config(config, args.max_logprobs)
    return infer_request, config, req.stream_options


def parse_completion_request(data: Dict[str, Any], args) -> Tuple[InferRequest, RequestConfig, Optional[dict]]:
    data = {'model': args.served_model_name, **data}
    if isinstance(data.get('prompt'), list) and len(data['prompt']) == 1:
        data['prompt'] = data['prompt'][0]  # the openai client may send a one-element list
    req = _validate(CompletionRequest, data)
    infer_request, config = req.parse()
    _check_config(config, args.max_logprobs)
    return infer_request, config, req.stream_options


class ServerStats:
    """Token counters for the `--log_interval` throughput lines."""

    def __init__(self):
        self.running = 0
        self.prompt_tokens = self.completion_tokens = self.finished = 0

    def finish(self, usage: Optional[Dict[str, int]]) -> None:
        self.finished += 1
        if usage:
            self.prompt_tokens += usage.get('prompt_tokens', 0)
            self.completion_tokens += usage.get('completion_tokens', 0)

    def take_line(self, seconds: float) -> Optional[str]:
        """The throughput since the last call, or None when the server was idle."""
        if not (self.finished or self.running):
            return None
        line = (f'Throughput: prompt {self.prompt_tokens / seconds:.1f} tokens/s, generation '
                f'{self.completion_tokens / seconds:.1f} tokens/s, {self.running} running requests, '
                f'{self.finished} finished in the last {seconds:.0f} s')
        self.prompt_tokens = self.completion_tokens = self.finished = 0
        return line

    async def log_forever(self, interval: float) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            line = self.take_line(now - last)
            last = now
            if line:
                logger.info(line)
