"""Tool-call parsing (hermes and ReAct) and tools in a request through the engine."""
import json

import pytest

from swift.infer import InferRequest, RequestConfig
from swift.infer.tool_call import parse_tool_calls, streamable_len

TOOLS = [{'type': 'function', 'function': {'name': 'get_weather', 'description': 'Weather of a city',
                                           'parameters': {'type': 'object', 'properties': {'city': {}}}}}]


def test_hermes():
    text = 'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    content, calls = parse_tool_calls(text, 'hermes')
    assert content == 'Let me check.'
    assert calls[0].function.name == 'get_weather'
    assert json.loads(calls[0].function.arguments) == {'city': 'Paris'}
    assert parse_tool_calls('plain answer', 'hermes') == ('plain answer', None)
    assert streamable_len('abc <tool_', 'hermes') == 4


def test_react():
    text = 'Thought: need weather\nAction: get_weather\nAction Input: {"city": "Paris"}\n'
    content, calls = parse_tool_calls(text, 'react')
    assert content == 'Thought: need weather'
    assert calls[0].function.name == 'get_weather' and json.loads(calls[0].function.arguments)['city'] == 'Paris'


def test_tools_request_through_engine(engine):
    request = InferRequest([{'role': 'user', 'content': 'Weather in Paris?'}], tools=TOOLS)
    response = engine.infer([request], RequestConfig(max_tokens=8, temperature=0))[0]
    assert response.usage.prompt_tokens > 100  # the tools prompt is in the system message
    chunks = list(engine.infer([request], RequestConfig(max_tokens=8, temperature=0, stream=True))[0])
    assert ''.join(c.choices[0].delta.content or '' for c in chunks) == (response.choices[0].message.content or '')


CALLS = [{'type': 'function', 'id': 'abcDEF123', 'function': {'name': 'get_weather', 'arguments': {'city': 'Paris'}}},
         {'type': 'function', 'id': 'xyzXYZ789', 'function': {'name': 'get_time', 'arguments': {'tz': 'CET'}}}]


@pytest.mark.parametrize('tools_prompt', ['hermes', 'qwen', 'react_en', 'react_zh', 'toolbench', 'glm4', 'glm4_0414',
                                          'llama3', 'deepseek', 'mistral', 'qwen_en', 'qwen_zh', 'qwen_en_parallel'])
def test_every_agent_format_parses_back_what_it_renders(tools_prompt):
    from swift.template.tools import get_agent_format
    fmt = get_agent_format(tools_prompt)
    one_call = fmt.parser == 'llama3'  # Meta's format holds one call per turn; two are two JSON lines
    for calls in ([CALLS[0]], CALLS):
        text = fmt.calls('' if fmt.parser in ('llama3', 'mistral') else 'Let me look.', calls)
        content, parsed = parse_tool_calls(text, fmt.parser, ['get_weather', 'get_time'])
        assert [(c.function.name, json.loads(c.function.arguments)) for c in parsed] == [
            (c['function']['name'], c['function']['arguments']) for c in calls], text
        assert content in (None, 'Let me look.')
        if fmt.parser == 'mistral':
            assert [c.id for c in parsed] == [c['id'] for c in calls]
        if one_call:
            break
    assert parse_tool_calls('The weather is fine.', fmt.parser, ['get_weather']) == ('The weather is fine.', None)


def test_parallel_tool_calls_false_keeps_the_first():
    text = '<tool_call>\n{"name": "a", "arguments": {}}\n</tool_call>\n<tool_call>\n{"name": "b", "arguments": {}}\n' \
           '</tool_call>'
    assert [c.function.name for c in parse_tool_calls(text, 'hermes')[1]] == ['a', 'b']
    assert [c.function.name for c in parse_tool_calls(text, 'hermes', parallel=False)[1]] == ['a']


def test_mistral_ids_have_nine_characters():
    _, calls = parse_tool_calls('[TOOL_CALLS][{"name": "a", "arguments": {}}]', 'mistral')
    assert len(calls[0].id) == 9 and calls[0].id.isalnum()


def test_streaming_content_stops_at_each_format_marker():
    assert streamable_len('Sure. ✿FUNC', 'qwen') == len('Sure. ')
    assert streamable_len('{"name": "a"', 'llama3') == 0 and streamable_len('Hello', 'llama3') == 5
    assert streamable_len('get_weather\n{', 'glm4') == 0
    assert streamable_len('ok <｜tool▁calls▁begin｜>', 'deepseek') == 3


def test_stream_chunk_splits_into_openai_tool_call_deltas():
    from swift.infer.server_protocol import split_tool_call_deltas
    call = {'id': 'call_1', 'type': 'function', 'function': {'name': 'get_weather', 'arguments': '{"city": "P"}'}}
    chunk = {'id': 'c', 'choices': [{'index': 0, 'delta': {'role': None, 'content': 'Hi', 'tool_calls': [call]},
                                     'finish_reason': 'tool_calls', 'logprobs': None}]}
    deltas = [c['choices'][0]['delta'] for c in split_tool_call_deltas(chunk)]
    assert deltas[0] == {'role': None, 'content': 'Hi'}
    assert deltas[1]['tool_calls'] == [{'index': 0, 'id': 'call_1', 'type': 'function',
                                        'function': {'name': 'get_weather', 'arguments': ''}}]
    assert deltas[2]['tool_calls'] == [{'index': 0, 'function': {'arguments': '{"city": "P"}'}}]
    assert split_tool_call_deltas(chunk)[-1]['choices'][0]['finish_reason'] == 'tool_calls'


@pytest.mark.parametrize('tool_choice, prefill', [
    ({'type': 'function', 'function': {'name': 'get_weather'}}, '<tool_call>\n{"name": "get_weather", "arguments":'),
    ('required', '<tool_call>\n{"name": "'), ('auto', '')])
def test_tool_choice_prefills_the_forced_call(model_template, tool_choice, prefill):
    _, template = model_template
    request = InferRequest([{'role': 'user', 'content': 'Weather in Paris?'}], tools=TOOLS, tool_choice=tool_choice)
    text = template.render_text(request.to_row(), mode='infer')
    assert text.endswith('<|im_start|>assistant\n' + prefill)
    assert template.tool_prefill(request.to_row()) == prefill
