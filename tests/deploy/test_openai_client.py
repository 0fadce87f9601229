"""`swift deploy` through the official openai client: chat, streaming, logprobs, n, stop, adapters, keys."""
import time

import openai
import pytest

from .deploy_helpers import ADAPTER, API_KEY

MESSAGES = [{'role': 'user', 'content': 'Tell me about rivers and mountains.'}]


@pytest.fixture(scope='module')
def client(server):
    return openai.OpenAI(base_url=server.base + '/v1', api_key=API_KEY, max_retries=0, timeout=60)


def _chat(client, **kw):
    kw.setdefault('model', 'tiny')
    kw.setdefault('messages', MESSAGES)
    kw.setdefault('max_tokens', 16)
    kw.setdefault('temperature', 0)
    return client.chat.completions.create(**kw)


def test_models_lists_served_name_and_adapters(client):
    models = client.models.list().data
    assert [m.id for m in models] == ['tiny', ADAPTER]
    assert all(m.owned_by == 'swift' for m in models)


def test_chat_and_stream_agree(client):
    resp = _chat(client)
    choice = resp.choices[0]
    assert resp.model == 'tiny' and resp.object == 'chat.completion'
    assert choice.message.role == 'assistant' and choice.message.content
    assert choice.finish_reason in ('stop', 'length')
    assert resp.usage.completion_tokens <= 16
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens

    chunks = list(_chat(client, stream=True, stream_options={'include_usage': True}))
    text = ''.join(c.choices[0].delta.content or '' for c in chunks if c.choices)
    assert text == choice.message.content
    assert all(c.object == 'chat.completion.chunk' and c.model == 'tiny' for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == choice.finish_reason
    assert chunks[-1].choices == [] and chunks[-1].usage.model_dump() == resp.usage.model_dump()
    assert all(c.usage is None for c in chunks[:-1])


def test_stream_without_usage_has_no_usage_chunk(client):
    chunks = list(_chat(client, stream=True, max_tokens=4))
    assert chunks and all(c.choices for c in chunks)


def test_logprobs(client):
    resp = _chat(client, logprobs=True, top_logprobs=3, max_tokens=5)
    entries = resp.choices[0].logprobs.content
    assert len(entries) == resp.usage.completion_tokens
    for e in entries:
        assert e.logprob <= 0 and len(e.top_logprobs) == 3
        assert e.top_logprobs[0].logprob >= e.logprob - 1e-4  # greedy: the chosen token is the best one


def test_n_samples(client):
    resp = _chat(client, n=3, temperature=1.0, seed=1, max_tokens=8)
    assert [c.index for c in resp.choices] == [0, 1, 2]
    assert 3 <= resp.usage.completion_tokens <= 24
    assert len({c.message.content for c in resp.choices}) > 1  # independent samples


def test_stop_word_ends_and_is_kept(client):
    full = _chat(client, max_tokens=24).choices[0].message.content
    word = full.split()[1] if len(full.split()) > 2 else full[3:6]
    resp = _chat(client, max_tokens=24, stop=[word])
    text = resp.choices[0].message.content
    assert resp.choices[0].finish_reason == 'stop'
    assert text.endswith(word) and full.startswith(text)


def test_adapter_by_model_name(client):
    base = _chat(client, max_tokens=12)
    tuned = _chat(client, model=ADAPTER, max_tokens=12)
    assert tuned.model == ADAPTER
    assert tuned.choices[0].message.content != base.choices[0].message.content
    assert _chat(client, max_tokens=12).choices[0].message.content == base.choices[0].message.content


def test_completions_endpoint(client):
    resp = client.completions.create(model='tiny', prompt='Hello there', max_tokens=6, temperature=0)
    assert resp.object == 'text_completion' and resp.choices[0].text
    chunks = list(client.completions.create(model='tiny', prompt='Hello there', max_tokens=6, temperature=0,
                                            stream=True))
    assert ''.join(c.choices[0].text for c in chunks if c.choices) == resp.choices[0].text


def test_content_parts_and_null_tool_call_content(client):
    messages = [
        {'role': 'user', 'content': [{'type': 'text', 'text': 'What is the weather '},
                                     {'type': 'text', 'text': 'in Paris?'}]},
        {'role': 'assistant', 'content': None, 'tool_calls': [
            {'id': 'call_1', 'type': 'function', 'function': {'name': 'weather', 'arguments': '{"city": "Paris"}'}}]},
        {'role': 'tool', 'tool_call_id': 'call_1', 'content': '{"temp": 20}'},
    ]
    tools = [{'type': 'function', 'function': {'name': 'weather', 'description': 'Weather of a city',
                                               'parameters': {'type': 'object', 'properties': {
                                                   'city': {'type': 'string'}}}}}]
    resp = _chat(client, messages=messages, tools=tools, max_tokens=6)
    assert resp.choices[0].finish_reason in ('stop', 'length', 'tool_calls')
    assert resp.usage.prompt_tokens > _chat(client, max_tokens=1).usage.prompt_tokens


@pytest.mark.parametrize('key', [None, 'sk-wrong'])
def test_wrong_or_missing_key_is_401(server, key):
    bad = openai.OpenAI(base_url=server.base + '/v1', api_key=key or 'unused', max_retries=0,
                        default_headers={} if key else {'Authorization': ''})
    with pytest.raises(openai.AuthenticationError) as info:
        bad.chat.completions.create(model='tiny', messages=MESSAGES, max_tokens=2)
    assert info.value.status_code == 401
    assert info.value.body['code'] == 'invalid_api_key'


def test_throughput_log_lines(server, client):
    _chat(client, max_tokens=4)
    deadline = time.time() + 5  # the server runs with --log_interval 1
    while 'Throughput: prompt' not in server.output() and time.time() < deadline:
        time.sleep(0.2)
    line = next(x for x in server.output().splitlines() if 'Throughput: prompt' in x)
    assert 'generation' in line and 'running requests' in line
