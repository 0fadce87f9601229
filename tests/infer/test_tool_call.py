"""Tool-call parsing (hermes and ReAct) and tools in a request through the engine."""
import json

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
