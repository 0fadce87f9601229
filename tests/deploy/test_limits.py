"""Issue 11, server: hostile input answers 400 (not 500) on a kept-alive connection, requests are bounded, a long
prompt does not stall the event loop, a trailing assistant message is continued or refused, the key guards the docs."""
from http.client import HTTPConnection
import json
import threading
import time

import pytest

from swift.infer.pt import PtEngine
from .deploy_helpers import API_KEY, http
from .test_server_app import _args, serve

GOOD = {'model': 'tiny', 'messages': [{'role': 'user', 'content': 'hi'}], 'max_tokens': 2}
NESTED = b'{"model": "tiny", "messages": ' + b'[' * 100000 + b']' * 100000 + b'}'
SURROGATE = b'{"model": "tiny", "messages": [{"role": "user", "content": "\\ud800"}], "max_tokens": 2}'


def _post(conn, raw: bytes, key=API_KEY):
    conn.request('POST', '/v1/chat/completions', body=raw,
                 headers={'Content-Type': 'application/json', 'Authorization': f'Bearer {key}'})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


@pytest.mark.parametrize('raw,param', [
    (json.dumps({**GOOD, 'seed': 1180591620717411303424}).encode(), 'seed'),
    (SURROGATE, 'messages.0.content'),
    (NESTED, None),
    (json.dumps({**GOOD, 'num_beams': 4208300650}).encode(), 'num_beams'),
    (json.dumps({**GOOD, 'n': 2000}).encode(), 'n'),
])
def test_hostile_input_is_a_400_and_the_connection_survives(server, raw, param):
    conn = HTTPConnection('127.0.0.1', server.port, timeout=60)
    status, body = _post(conn, raw)
    assert status == 400, body
    assert body['error']['type'] == 'invalid_request_error' and body['error']['param'] == param
    status, body = _post(conn, json.dumps(GOOD).encode())  # same keep-alive connection
    assert status == 200, body
    conn.close()


def test_trailing_assistant_is_continued_or_refused(server):
    url = server.base + '/v1/chat/completions'
    prefix = [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'one two three four five six'}]
    status, body = http('POST', url, {**GOOD, 'messages': prefix})
    assert status == 400 and 'continue_final_message' in body['error']['message']
    status, alone = http('POST', url, GOOD)
    status2, cont = http('POST', url, {**GOOD, 'messages': prefix, 'continue_final_message': True})
    assert status == status2 == 200, cont
    assert cont['usage']['prompt_tokens'] > alone['usage']['prompt_tokens'] + 5
    status, body = http('POST', url, {**GOOD, 'continue_final_message': True})
    assert status == 400 and body['error']['param'] == 'continue_final_message'


def test_docs_need_the_key_and_describe_the_bodies(server):
    for path in ('/openapi.json', '/docs'):
        assert http('GET', server.base + path, key=None)[0] == 401
        assert http('GET', server.base + path, key='sk-wrong')[0] == 401
    status, schema = http('GET', server.base + '/openapi.json')
    assert status == 200
    body = schema['paths']['/v1/chat/completions']['post']['requestBody']['content']['application/json']['schema']
    assert {'messages', 'max_tokens', 'continue_final_message'} <= set(body['properties'])
    assert 'messages' in body['required']
    assert schema['security'] == [{'bearer': []}]  # Swagger's Authorize button sends the key


def test_docs_page_in_a_browser_fetches_its_schema_with_the_key(server):
    """A browser sends no Authorization header: /docs?api_key=<key> serves a page whose schema URL carries it."""
    import re
    import urllib.request
    assert http('GET', f'{server.base}/docs?api_key=sk-wrong', key=None)[0] == 401
    with urllib.request.urlopen(f'{server.base}/docs?api_key={API_KEY}') as resp:
        page = resp.read().decode()
    url = re.search(r"url: '([^']+)'", page).group(1)
    with urllib.request.urlopen(server.base + url) as resp:
        assert '/v1/chat/completions' in json.loads(resp.read())['paths']


@pytest.fixture(scope='module')
def engine():
    return PtEngine('swift/tiny-qwen2', 'float32', max_batch_size=2, max_length=64)


def test_caps_and_body_limit(engine):
    with serve(engine, _args(max_new_tokens=8, max_request_bytes=2000)) as port:
        base = f'http://127.0.0.1:{port}/v1/chat/completions'
        status, body = http('POST', base, {**GOOD, 'max_tokens': 9}, key=None)
        assert status == 400 and '--max_new_tokens' in body['error']['message']
        assert http('POST', base, {**GOOD, 'max_tokens': 8}, key=None)[0] == 200
        big = {**GOOD, 'messages': [{'role': 'user', 'content': 'x' * 3000}]}
        status, body = http('POST', base, big, key=None)
        assert status == 413 and '--max_request_bytes' in body['error']['message']
    with serve(engine, _args(max_new_tokens=8, max_tokens_limit=20)) as port:
        base = f'http://127.0.0.1:{port}/v1/chat/completions'
        assert http('POST', base, {**GOOD, 'max_tokens': 20}, key=None)[0] == 200
        assert http('POST', base, {**GOOD, 'max_tokens': 21}, key=None)[0] == 400


def test_health_answers_while_a_long_prompt_is_encoded(engine):
    with serve(engine, _args(max_request_bytes=64 << 20)) as port:  # a prompt long enough to encode for seconds
        base = f'http://127.0.0.1:{port}'
        assert http('POST', base + '/v1/chat/completions', GOOD, key=None)[0] == 200  # warm: first-use imports
        long = {**GOOD, 'messages': [{'role': 'user', 'content': 'rivers and mountains ' * 600000}]}
        result = {}
        thread = threading.Thread(target=lambda: result.update(r=http('POST', base + '/v1/chat/completions', long,
                                                                      key=None)))
        start = time.time()
        thread.start()
        time.sleep(0.3)  # the body is read and parsed; the encode is under way
        latencies = []
        while thread.is_alive() and len(latencies) < 20:
            t = time.time()
            assert http('GET', base + '/health', key=None)[0] == 200
            latencies.append(time.time() - t)
        thread.join()
        assert result['r'][0] == 400 and 'max_length' in result['r'][1]['error']['message']
        assert time.time() - start > 0.5 and latencies, 'the encode was too quick to test anything'
        print('health latencies (s):', sorted(latencies)[-3:], 'encode took', round(time.time() - start, 1))
        assert max(latencies) < 0.1, latencies
