"""`swift app` / `swift web-ui` arguments and their one-line failures; the chat code against real engines."""
import socket
import subprocess
import sys

import pytest

from swift.arguments import AppArguments, InferArguments, WebUIArguments
from swift.arguments.parser import parse_args
from swift.infer import InferRequest, RequestConfig
from swift.pipelines.app import connect
from swift.pipelines.infer import build_engine
from swift.ui.app import check_port, takes_images
from swift.ui.chat import _messages, stream_answer
from swift.utils import ArgumentError
from tests.deploy.deploy_helpers import API_KEY, DeployProcess, free_port

SWIFT = [sys.executable, '-m', 'swift.cli.main']


def _app(*argv):
    args = parse_args(AppArguments, list(argv), prog='swift app')
    args.validate()
    return args


def test_defaults_follow_the_reference():
    app = parse_args(AppArguments, ['--model', 'swift/tiny-qwen2'])
    assert (app.server_name, app.server_port, app.share, app.lang) == ('0.0.0.0', 7860, False, 'en')
    assert (app.base_url, app.studio_title, app.is_multimodal) == (None, None, None)
    web = parse_args(WebUIArguments, [])
    assert (web.server_name, web.server_port, web.share, web.lang) == ('0.0.0.0', 7860, False, 'zh')
    assert app.title('tiny-qwen2') == 'tiny-qwen2' and _app('--studio_title', 'Demo').title('x') == 'Demo'


@pytest.mark.parametrize('argv, message', [
    (['--model', 'm', '--port', '9000'], '--port 9000: not read by swift app: it is a `swift deploy` server'),
    (['--model', 'm', '--dataset', 'd.jsonl'], '--dataset d.jsonl: not read by swift deploy'),
    (['--model', 'm', '--api_key', 'k'], '--api_key is sent to a --base_url server'),
    (['--base_url', 'localhost:8000'], 'expected an http(s) URL'),
    (['--base_url', 'http://x/v1', '--model', 'm'], '--served_model_name'),
    (['--base_url', 'http://x/v1', '--adapters', 'a'], '--adapters loads a model in this process'),
    (['--model', 'm', '--server_port', '0'], '--server_port must be in 1..65535'),
    (['--model', 'm', '--lang', 'fr'], 'invalid choice'),
])
def test_arguments_the_page_cannot_use_are_rejected_by_name(argv, message):
    with pytest.raises(ArgumentError) as info:
        _app(*argv)
    assert message in str(info.value)


def test_port_in_use_is_one_line():
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ArgumentError, match=f'--server_port {port}: 127.0.0.1:{port} is already in use'):
            check_port('127.0.0.1', port)
        out = subprocess.run([*SWIFT, 'web-ui', '--server_name', '127.0.0.1', '--server_port', str(port)],
                             capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f'swift web-ui: error: --server_port {port}: 127.0.0.1:{port} is '
                                               'already in use; stop what runs there or pick another --server_port.']


@pytest.mark.parametrize('argv, rc, message', [
    (['--base_url', 'http://127.0.0.1:{closed}/v1'], 2, 'no OpenAI-compatible server answers GET /models there'),
    (['--model', '/no/such/model'], 1, "Model path '/no/such/model' does not exist"),
    (['--model', 'swift/tiny-qwen2', '--is_multimodal', 'true'], 2,
     '--is_multimodal true: swift/tiny-qwen2 (tiny_qwen2) is a text-only model'),
])
def test_unusable_server_or_model_is_one_line_on_the_terminal(argv, rc, message):
    argv = [a.format(closed=free_port()) for a in argv]
    out = subprocess.run([*SWIFT, 'app', '--server_name', '127.0.0.1', '--server_port', str(free_port()), *argv],
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == rc, out.stderr
    errors = [ln for ln in out.stderr.splitlines() if ln.startswith('swift app: error:')]
    assert len(errors) == 1 and message in errors[0], out.stderr
    assert 'Traceback' not in out.stderr


def test_streamed_multi_turn_answer_from_the_pt_engine():
    args = parse_args(InferArguments, ['--model', 'swift/tiny-qwen2', '--torch_dtype', 'float32'])
    args.validate()
    args.resolve()
    engine = build_engine(args)
    try:
        messages = [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'hello'},
                    {'role': 'user', 'content': 'who are you?'}]
        config = RequestConfig(max_tokens=12, temperature=0)
        texts = list(stream_answer(engine, messages, config))
        assert len(texts) >= 2 and all(b.startswith(a) for a, b in zip(texts, texts[1:]))
        whole = engine.infer([InferRequest(messages)], config)[0].choices[0].message.content
        assert texts[-1] == whole  # the streamed answer is the answer, same template and greedy decoding
    finally:
        engine.close()


def test_base_url_client_streams_through_the_sync_api(tmp_path):
    server = DeployProcess(['--model', 'swift/tiny-qwen2', '--torch_dtype', 'float32', '--served_model_name', 'tiny',
                            '--api_key', API_KEY], str(tmp_path / 'deploy.log'))
    try:
        server.wait_ready()
        args = _app('--base_url', f'{server.base}/v1', '--api_key', API_KEY)
        client, name = connect(args)
        assert name == 'tiny'
        texts = list(stream_answer(client, [{'role': 'user', 'content': 'hi'}], RequestConfig(max_tokens=8)))
        assert texts and texts[-1]
        with pytest.raises(ArgumentError, match='serves tiny'):
            connect(_app('--base_url', f'{server.base}/v1', '--api_key', API_KEY, '--served_model_name', 'other'))
        with pytest.raises(ArgumentError, match='no OpenAI-compatible server answers'):
            connect(_app('--base_url', f'{server.base}/v1', '--api_key', 'wrong'))  # 401
        client.close()
    finally:
        server.stop()


def test_uploaded_images_reach_a_vl_model(tmp_path, private_swift_cache):
    from PIL import Image
    image = str(tmp_path / 'red.png')
    Image.new('RGB', (56, 56), 'red').save(image)
    # the history as gradio hands it back: the upload is its own user message, parts are typed
    history = [{'role': 'user', 'content': [{'type': 'file', 'file': {'path': image}}]},
               {'role': 'user', 'content': [{'type': 'text', 'text': 'what shape is this?'}]},
               {'role': 'assistant', 'content': [{'type': 'text', 'text': 'a square'}]},
               {'role': 'user', 'content': 'and its colour?'}]
    messages, images = _messages(history, 'Be brief.')
    assert messages == [{'role': 'system', 'content': 'Be brief.'},
                        {'role': 'user', 'content': '<image>what shape is this?'},
                        {'role': 'assistant', 'content': 'a square'}, {'role': 'user', 'content': 'and its colour?'}]
    assert images == [image]
    args = parse_args(InferArguments, ['--model', 'swift/tiny-qwen2-vl', '--torch_dtype', 'float32'])
    args.validate()
    args.resolve()
    engine = build_engine(args)
    try:
        assert takes_images(engine)
        config = RequestConfig(max_tokens=8, temperature=0)
        texts = list(stream_answer(engine, messages, config, images=images))
        direct = engine.infer([InferRequest(messages, images=images)], config)[0]
        assert texts[-1] == direct.choices[0].message.content
        without = engine.infer([InferRequest(messages[:1] + [{'role': 'user', 'content': 'hi'}])], config)[0]
        assert direct.usage.prompt_tokens > without.usage.prompt_tokens + 4  # the image's vision tokens
    finally:
        engine.close()
