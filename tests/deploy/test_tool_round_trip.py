"""A tool-calling session through the official openai client against `swift deploy`: a tiny Qwen2 trained on
one tool conversation calls the tool, gets the result back as the client sends it, and answers; every prompt the
server builds equals the official Qwen2.5 chat template's render of the conversation."""
import json

import openai
import pytest

from tests.template._utils import official_render
from .deploy_helpers import DeployProcess

TOOLS = [{'type': 'function', 'function': {'name': 'get_weather', 'description': 'Weather of a city', 'parameters': {
    'type': 'object', 'properties': {'city': {'type': 'string'}}, 'required': ['city']}}}]
CALL = {'type': 'function', 'function': {'name': 'get_weather', 'arguments': {'city': 'Paris'}}}
QUESTION = [{'role': 'user', 'content': 'Weather in Paris?'}]
ANSWER = 'It is 21 degrees in Paris.'


def _train_tool_model(path):
    """Full fine-tuning of tiny-qwen2 on the two turns of the session until it reproduces them greedily."""
    import torch
    from swift.model import get_model_tokenizer
    from swift.template import get_template
    torch.manual_seed(0)
    model, tok = get_model_tokenizer('swift/tiny-qwen2', 'float32')
    template = get_template('qwen2_5', tok)
    called = QUESTION + [{'role': 'assistant', 'content': None, 'tool_calls': [CALL]}]
    rows = [{'tools': TOOLS, 'messages': called},
            {'tools': TOOLS, 'messages': called + [{'role': 'tool', 'content': '{"temp": 21}'},
                                                   {'role': 'assistant', 'content': ANSWER}]}]
    encoded = [template.encode(r) for r in rows]
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(60):
        loss = sum(model(input_ids=torch.tensor([e['input_ids']]), labels=torch.tensor([e['labels']])).loss
                   for e in encoded)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return tok


@pytest.fixture(scope='module')
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp('tools')
    tok = _train_tool_model(str(root / 'model'))
    proc = DeployProcess(['--model', str(root / 'model'), '--torch_dtype', 'float32', '--template', 'qwen2_5',
                          '--served_model_name', 'tiny', '--max_length', '1024'], str(root / 'server.log'))
    try:
        proc.wait_ready()
        yield openai.OpenAI(base_url=proc.base + '/v1', api_key='none', max_retries=0, timeout=120), tok
    finally:
        code = proc.stop()
    assert code == 0, proc.output()[-3000:]


def _prompt_tokens(tok, messages):
    """Tokens of the official Qwen2.5 render, tool-call arguments given as objects (as its template expects)."""
    messages = [{**m, 'tool_calls': [{**c, 'function': {**c['function'], 'arguments': json.loads(
        c['function']['arguments'])}} for c in m['tool_calls']]} if m.get('tool_calls') else m for m in messages]
    return len(tok(official_render('qwen2_5.jinja', messages, tok, tools=TOOLS), add_special_tokens=False)['input_ids'])


def test_tool_call_round_trip(session):
    client, tok = session
    first = client.chat.completions.create(model='tiny', messages=QUESTION, tools=TOOLS, temperature=0,
                                           max_tokens=48)
    choice = first.choices[0]
    assert choice.finish_reason == 'tool_calls' and not choice.message.content
    call = choice.message.tool_calls[0]
    assert call.type == 'function' and call.id and call.function.name == 'get_weather'
    assert json.loads(call.function.arguments) == {'city': 'Paris'}
    assert first.usage.prompt_tokens == _prompt_tokens(tok, QUESTION)

    messages = QUESTION + [choice.message.model_dump(exclude_none=True),
                           {'role': 'tool', 'tool_call_id': call.id, 'content': '{"temp": 21}'}]
    second = client.chat.completions.create(model='tiny', messages=messages, tools=TOOLS, temperature=0,
                                            max_tokens=48)
    assert second.choices[0].message.content == ANSWER and second.choices[0].finish_reason == 'stop'
    assert second.choices[0].message.tool_calls is None
    assert second.usage.prompt_tokens == _prompt_tokens(tok, messages)


def test_streamed_tool_call_assembles_in_the_openai_client(session):
    client, _ = session
    with client.chat.completions.stream(model='tiny', messages=QUESTION, tools=TOOLS, temperature=0,
                                        max_tokens=48) as stream:
        final = stream.get_final_completion()
    call = final.choices[0].message.tool_calls[0]
    assert final.choices[0].finish_reason == 'tool_calls'
    assert call.function.name == 'get_weather' and json.loads(call.function.arguments) == {'city': 'Paris'}
    chunks = list(client.chat.completions.create(model='tiny', messages=QUESTION, tools=TOOLS, temperature=0,
                                                 max_tokens=48, stream=True))
    deltas = [c.choices[0].delta.tool_calls[0] for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert deltas[0].index == 0 and deltas[0].id and deltas[0].function.name == 'get_weather'
    assert json.loads(''.join(d.function.arguments or '' for d in deltas)) == {'city': 'Paris'}


def test_tool_choice_none_and_unknown_function(session):
    client, _ = session
    plain = client.chat.completions.create(model='tiny', messages=QUESTION, tools=TOOLS, tool_choice='none',
                                           temperature=0, max_tokens=8)
    assert plain.choices[0].message.tool_calls is None
    assert plain.usage.prompt_tokens < 60  # no tool schemas in the prompt
    with pytest.raises(openai.BadRequestError, match='not in `tools`'):
        client.chat.completions.create(model='tiny', messages=QUESTION, tools=TOOLS, max_tokens=8,
                                       tool_choice={'type': 'function', 'function': {'name': 'nope'}})


def test_named_tool_choice_and_parallel_tool_calls(session):
    client, _ = session
    forced = client.chat.completions.create(model='tiny', messages=QUESTION, tools=TOOLS, temperature=0,
                                            max_tokens=48, parallel_tool_calls=False,
                                            tool_choice={'type': 'function', 'function': {'name': 'get_weather'}})
    calls = forced.choices[0].message.tool_calls
    assert forced.choices[0].finish_reason == 'tool_calls' and len(calls) == 1
    assert calls[0].function.name == 'get_weather' and json.loads(calls[0].function.arguments) == {'city': 'Paris'}
