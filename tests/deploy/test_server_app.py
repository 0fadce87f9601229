"""build_app in-process: a client that walks away frees its engine slot; tool calls reach the client."""
import contextlib
import json
import socket
import threading
import time
import types

import openai
import pytest
import uvicorn

from swift.infer.engine import InferEngine
from swift.infer.protocol import (ChatCompletionResponse, ChatCompletionResponseChoice,
                                  ChatCompletionResponseStreamChoice, ChatCompletionStreamResponse, ChatMessage,
                                  DeltaMessage, UsageInfo)
from swift.infer.pt import PtEngine
from swift.infer.server import build_app
from swift.infer.tool_call import parse_tool_calls
from .deploy_helpers import free_port

TOOL_TEXT = 'Let me check.\n<tool_call>\n{"name": "weather", "arguments": {"city": "Paris"}}\n</tool_call>'
TOOLS = [{'type': 'function', 'function': {'name': 'weather', 'parameters': {'type': 'object', 'properties': {}}}}]


def _args(**kw):
    base = dict(served_model_name='tiny', owned_by='swift', api_key=None, max_logprobs=20, log_interval=-1,
                verbose=False, adapters=[])
    return types.SimpleNamespace(**{**base, **kw})


@contextlib.contextmanager
def serve(engine, args):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(engine, args), host='127.0.0.1', port=port, log_level='error'))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


class RecordingPtEngine(PtEngine):
    """The real engine, keeping its jobs so the test can see what happened to them."""

    def _job(self, *args, **kwargs):
        job = super()._job(*args, **kwargs)
        self.jobs.append(job)
        return job


def _tokens(job) -> int:
    return sum(len(c.tokens) for c in job.choices)


def test_disconnect_mid_stream_cancels_the_job():
    engine = RecordingPtEngine('swift/tiny-qwen2', 'float32', max_batch_size=1, max_length=2048)
    engine.jobs = []
    with serve(engine, _args()) as port:
        body = json.dumps({'model': 'tiny', 'messages': [{'role': 'user', 'content': 'hi'}], 'max_tokens': 1500,
                           'temperature': 0, 'stream': True}).encode()
        sock = socket.create_connection(('127.0.0.1', port))
        sock.sendall(b'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                     + f'Content-Length: {len(body)}\r\n\r\n'.encode() + body)
        received = b''
        while b'data: ' not in received:
            received += sock.recv(4096)
        sock.close()
        job = engine.jobs[0]
        deadline = time.time() + 5
        while not job.cancelled and time.time() < deadline:
            time.sleep(0.05)
        assert job.cancelled
        time.sleep(0.3)  # the decode loop drops the rows at its next step
        generated = _tokens(job)
        time.sleep(0.5)
        assert _tokens(job) == generated < 1500
        client = openai.OpenAI(base_url=f'http://127.0.0.1:{port}/v1', api_key='none', max_retries=0)
        resp = client.chat.completions.create(model='tiny', messages=[{'role': 'user', 'content': 'hi'}],
                                              max_tokens=3)
        assert resp.usage.completion_tokens == 3


class ToolCallingEngine(InferEngine):
    """Answers every request with TOOL_TEXT: the tiny random model cannot be made to call a tool."""

    def __init__(self):
        self.requests = []

    async def infer_async(self, infer_request, request_config=None, *, adapter_request=None):
        self.requests.append(infer_request)
        content, calls = parse_tool_calls(TOOL_TEXT, 'hermes')
        usage = UsageInfo(10, 5, 15)
        if not request_config.stream:
            choice = ChatCompletionResponseChoice(0, ChatMessage('assistant', content, calls), 'tool_calls')
            return ChatCompletionResponse('x', [choice], usage)

        async def chunks():
            yield ChatCompletionStreamResponse('x', [ChatCompletionResponseStreamChoice(
                0, DeltaMessage('assistant', content))], usage)
            yield ChatCompletionStreamResponse('x', [ChatCompletionResponseStreamChoice(
                0, DeltaMessage(None, None, calls), 'tool_calls')], usage)
        return chunks()


@pytest.fixture(scope='module')
def tool_client():
    engine = ToolCallingEngine()
    with serve(engine, _args()) as port:
        yield engine, openai.OpenAI(base_url=f'http://127.0.0.1:{port}/v1', api_key='none', max_retries=0)


def test_tool_calls(tool_client):
    engine, client = tool_client
    resp = client.chat.completions.create(model='tiny', messages=[{'role': 'user', 'content': 'weather?'}],
                                          tools=TOOLS)
    assert engine.requests[-1].tools == TOOLS
    choice = resp.choices[0]
    assert choice.finish_reason == 'tool_calls' and choice.message.content == 'Let me check.'
    call = choice.message.tool_calls[0]
    assert call.type == 'function' and call.function.name == 'weather'
    assert json.loads(call.function.arguments) == {'city': 'Paris'}


def test_streamed_tool_calls(tool_client):
    _, client = tool_client
    chunks = list(client.chat.completions.create(model='tiny', messages=[{'role': 'user', 'content': 'weather?'}],
                                                 tools=TOOLS, stream=True))
    deltas = [c.choices[0].delta for c in chunks]
    assert ''.join(d.content or '' for d in deltas) == 'Let me check.'
    calls = [t for d in deltas for t in (d.tool_calls or [])]  # header (index, id, name), then arguments
    assert [(t.index, t.function.name) for t in calls] == [(0, 'weather'), (0, None)]
    assert calls[0].id and json.loads(''.join(t.function.arguments for t in calls)) == {'city': 'Paris'}
    assert chunks[-1].choices[0].finish_reason == 'tool_calls'
