"""Bad input answers 4xx with an OpenAI error body, never a 500 (raw HTTP: the openai client validates too much)."""
import pytest

from .deploy_helpers import http

GOOD = {'model': 'tiny', 'messages': [{'role': 'user', 'content': 'hi'}], 'max_tokens': 2}


def _error(status, body, expected=400):
    assert status == expected, body
    assert set(body['error']) == {'message', 'type', 'param', 'code'}
    assert body['error']['message']
    return body['error']


@pytest.mark.parametrize('raw', [b'{"model": "tiny", "messages": [', b'\xff\xfe', b'[1, 2]', b''])
def test_malformed_json(server, raw):
    err = _error(*http('POST', server.base + '/v1/chat/completions', raw=raw))
    assert err['type'] == 'invalid_request_error'


def test_unknown_model(server):
    err = _error(*http('POST', server.base + '/v1/chat/completions', {**GOOD, 'model': 'gpt-4'}))
    assert err['code'] == 'model_not_found' and 'tiny' in err['message']


@pytest.mark.parametrize('stream', [False, True])
def test_prompt_longer_than_max_length(server, stream):
    body = {**GOOD, 'messages': [{'role': 'user', 'content': 'rivers and mountains ' * 300}], 'stream': stream}
    err = _error(*http('POST', server.base + '/v1/chat/completions', body))
    assert 'max_length' in err['message']


@pytest.mark.parametrize('patch,param', [
    ({'messages': None}, 'messages'),
    ({'messages': []}, 'messages'),
    ({'messages': 'hello'}, 'messages'),
    ({'messages': [{'role': 'wizard', 'content': 'hi'}]}, 'messages.0'),
    ({'messages': [{'role': 'user', 'content': [{'type': 'image_url', 'image_url': {'url': 'x'}}]}]},
     'messages.0.content.0'),  # no such file
    ({'messages': [{'role': 'user', 'content': [{'type': 'input_audio', 'input_audio': {}}]}]}, 'messages.0'),
    ({'max_tokens': 'many'}, 'max_tokens'),
    ({'max_tokens': 0}, 'max_tokens'),
    ({'temperature': -1}, 'temperature'),
    ({'n': 0}, 'n'),
    ({'stream': 'yes please'}, 'stream'),
    ({'logprobs': True, 'top_logprobs': 6}, 'top_logprobs'),  # the server runs with --max_logprobs 5
])
def test_bad_parameters(server, patch, param):
    body = {**GOOD, **patch}
    if patch.get('messages', 0) is None:
        del body['messages']
    err = _error(*http('POST', server.base + '/v1/chat/completions', body))
    assert err['param'] == param


def test_image_to_a_text_model(server):
    import base64
    import io

    from PIL import Image
    buf = io.BytesIO()
    Image.new('RGB', (8, 8)).save(buf, format='PNG')
    url = 'data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode()
    content = [{'type': 'image_url', 'image_url': {'url': url}}, {'type': 'text', 'text': 'hi'}]
    err = _error(*http('POST', server.base + '/v1/chat/completions',
                       {**GOOD, 'messages': [{'role': 'user', 'content': content}]}))
    assert 'text-only' in err['message']


def test_completions_validation(server):
    _error(*http('POST', server.base + '/v1/completions', {'model': 'tiny', 'max_tokens': 2}))
    _error(*http('POST', server.base + '/v1/completions', {'model': 'tiny', 'prompt': 'x', 'logprobs': 9}))


def test_unknown_route_and_missing_key(server):
    err = _error(*http('GET', server.base + '/v1/nothing'), expected=404)
    assert err['type'] == 'not_found_error'
    err = _error(*http('GET', server.base + '/v1/models', key=None), expected=401)
    assert err['code'] == 'invalid_api_key'
