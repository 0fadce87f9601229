"""Tool-calling rows in OpenAI, ms-swift and ShareGPT format become the same canonical row and encoded sample."""
import json

from swift.dataset import load_dataset
from swift.model.tiny import load_tiny_tokenizer
from swift.template import get_template

TOOLS = [{'type': 'function', 'function': {'name': 'get_weather', 'description': 'Weather of a city',
                                           'parameters': {'type': 'object',
                                                          'properties': {'city': {'type': 'string'}}}}}]
CALLS = [{'name': 'get_weather', 'arguments': {'city': 'Paris'}},
         {'name': 'get_weather', 'arguments': {'city': 'Oslo'}}]
OPENAI = {'tools': TOOLS, 'messages': [
    {'role': 'user', 'content': 'Weather in Paris and Oslo?'},
    {'role': 'assistant', 'content': None, 'tool_calls': [
        {'id': 'call_1', 'type': 'function', 'function': c} for c in CALLS]},
    {'role': 'tool', 'tool_call_id': 'call_1', 'content': '{"temp": 21}'},
    {'role': 'tool', 'content': '{"temp": 3}'},
    {'role': 'assistant', 'content': 'Paris 21, Oslo 3.'}]}
MS_SWIFT = {'tools': json.dumps(TOOLS), 'messages': [
    {'role': 'user', 'content': 'Weather in Paris and Oslo?'},
    *[{'role': 'tool_call', 'content': json.dumps(c)} for c in CALLS],
    {'role': 'tool_response', 'content': '{"temp": 21}'},
    {'role': 'tool_response', 'content': '{"temp": 3}'},
    {'role': 'assistant', 'content': 'Paris 21, Oslo 3.'}]}
SHAREGPT = {'tools': json.dumps(TOOLS), 'conversations': [
    {'from': 'human', 'value': 'Weather in Paris and Oslo?'},
    *[{'from': 'function_call', 'value': json.dumps(c)} for c in CALLS],
    {'from': 'observation', 'value': '{"temp": 21}'},
    {'from': 'observation', 'value': '{"temp": 3}'},
    {'from': 'gpt', 'value': 'Paris 21, Oslo 3.'}]}


def _calls(message):
    return [c['function'] for c in json.loads(message['tool_calls'])]


def test_openai_ms_swift_and_sharegpt_tool_rows_encode_identically(write):
    tok = load_tiny_tokenizer('swift/tiny-qwen2')
    template = get_template('qwen2_5', tok)
    encoded, rows = [], []
    for i, row in enumerate((OPENAI, MS_SWIFT, SHAREGPT)):
        train, _ = load_dataset([write(f'd{i}.jsonl', [row])])
        rows.append(train[0])
        encoded.append(template.encode(train[0]))
    for row in rows:
        assert [m['role'] for m in row['messages']] == ['user', 'assistant', 'tool', 'tool', 'assistant']
        assert _calls(row['messages'][1]) == CALLS
        assert json.loads(row['tools']) == TOOLS
    assert encoded[0]['labels'] == encoded[1]['labels'] == encoded[2]['labels']
    assert encoded[0]['input_ids'] == encoded[1]['input_ids'] == encoded[2]['input_ids']
    shown = template.render_example(encoded[0], color=False)
    assert ('[[<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n'
            '{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call><|im_end|>]]') in shown
    assert '<tool_response>\n{"temp": 21}\n</tool_response>' in shown.replace('[[', '').replace(']]', '')


def test_tool_rows_and_plain_rows_load_together(write):
    plain = {'messages': [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'hello'}]}
    train, _ = load_dataset([write('plain.jsonl', [plain]), write('tools.jsonl', [MS_SWIFT])])
    assert len(train) == 2
    assert train[0]['messages'][1]['content'] == 'hello' and train[0]['messages'][1]['tool_calls'] is None
    assert _calls(train[1]['messages'][1]) == CALLS


def test_dry_run_highlights_the_supervised_tool_call(write, capsys):
    from swift.pipelines.sft import sft_main
    path = write('agent.jsonl', [MS_SWIFT])
    assert sft_main(['--model', 'swift/tiny-qwen2', '--dataset', path, '--dry_run', 'true']) is None
    out = capsys.readouterr().out
    assert ('[[<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n'
            '{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call><|im_end|>]]') in out
    assert '<tool_response>\n{"temp": 21}\n</tool_response>' in out.split(']]')[1].split('[[')[0]  # not supervised
