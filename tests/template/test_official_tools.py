"""Tool conversations render exactly as each family's official chat template: tool schemas, structured tool calls,
one and several tool results and the final answer, for the inference prompt and the full training text."""
import copy
import json

import pytest

from swift.template import get_template

from ._utils import official_render, tokenizer
from .test_official import FAMILIES

WEATHER = {'name': 'get_weather', 'description': 'Weather of a city',
           'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}, 'required': ['city']}}
TIME = {'name': 'get_time', 'description': 'Local time', 'parameters': {'type': 'object', 'properties': {}}}
TOOLS = [{'type': 'function', 'function': WEATHER}, {'type': 'function', 'function': TIME}]
# template type -> official file, whether arguments are JSON text (DeepSeek concatenates them), parallel calls
TOOL_FAMILIES = {
    'qwen2_5': ('qwen2_5.jinja', False, True),
    'qwen3': ('qwen3.jinja', False, True),
    'llama3_1': ('llama3_1.jinja', False, False),  # Meta's template allows one call per turn
    'llama3_2': ('llama3_2.jinja', False, False),
    'deepseek_r1': ('deepseek_r1.jinja', True, True),
    'deepseek_v2_5': ('deepseek_v2_5.jinja', True, True),
    'glm4': ('glm4.jinja', False, True),
    'mistral_nemo': ('mistral_nemo.jinja', False, True),
}


def conversation(system: bool, parallel: bool, text_args: bool, answer: bool, content=None):
    def call(name, args):
        return {'type': 'function', 'function': {'name': name, 'arguments': json.dumps(args) if text_args else args}}

    calls = [call('get_weather', {'city': 'Paris'})] + ([call('get_time', {})] if parallel else [])
    for k, c in enumerate(calls):
        c['id'] = f'call{k}abcd'  # Mistral's template requires 9-character ids
    messages = [{'role': 'system', 'content': 'You are a careful bot.'}] if system else []
    messages += [{'role': 'user', 'content': 'Weather and time in Paris?'},
                 {'role': 'assistant', 'content': content, 'tool_calls': calls},
                 {'role': 'tool', 'tool_call_id': 'call0abcd', 'content': '{"temp": 21}'}]
    if parallel:
        messages.append({'role': 'tool', 'tool_call_id': 'call1abcd', 'content': '{"time": "10:00"}'})
    if answer:
        messages.append({'role': 'assistant', 'content': 'It is 21 degrees.'})
    return messages


def glm4_messages(messages):
    """GLM-4's own spelling of the same conversation: tools on the first message, a call is an assistant turn
    whose metadata is the function name, tool results are observations."""
    out = []
    for m in messages:
        if m.get('tool_calls'):
            out += [{'role': 'assistant', 'content': m['content']}] if m['content'] else []
            out += [{'role': 'assistant', 'metadata': c['function']['name'],
                     'content': json.dumps(c['function']['arguments'], ensure_ascii=False)} for c in m['tool_calls']]
        else:
            out.append({**m, 'role': 'observation' if m['role'] == 'tool' else m['role']})
    if out[0]['role'] != 'system':
        out.insert(0, {'role': 'system', 'content': ''})
    out[0]['tools'] = TOOLS
    return out


def official(template_type, messages, tok, train):
    jinja_file = TOOL_FAMILIES[template_type][0]
    if template_type == 'glm4':
        return official_render(jinja_file, glm4_messages(messages), tok, add_generation_prompt=not train) + (
            '<|user|>' if train else '')
    return official_render(jinja_file, messages, tok, tools=TOOLS, add_generation_prompt=not train)


@pytest.mark.parametrize('template_type', sorted(TOOL_FAMILIES))
@pytest.mark.parametrize('system', [True, False])
@pytest.mark.parametrize('parallel', [True, False])
@pytest.mark.parametrize('train', [True, False])
def test_tool_conversation_matches_official(template_type, system, parallel, train):
    _, text_args, can_parallel = TOOL_FAMILIES[template_type]
    if parallel and not can_parallel:
        pytest.skip('the official template allows one tool call per turn')
    if template_type == 'deepseek_v2_5' and not parallel:
        pytest.skip('this template closes the tool-call block only after a second call')
    _, bos, eos = FAMILIES[template_type]
    tok = tokenizer('swift/tiny-qwen2', bos, eos)
    messages = conversation(system, parallel, text_args, answer=train)
    row = {'messages': copy.deepcopy(messages), 'tools': json.dumps(TOOLS)}
    template = get_template(template_type, tok)
    assert template.render_text(row, mode='train' if train else 'infer') == official(template_type, messages, tok,
                                                                                     train)


@pytest.mark.parametrize('template_type', sorted(set(TOOL_FAMILIES) - {'deepseek_v2_5'}))
@pytest.mark.parametrize('train', [True, False])
def test_tool_call_with_text_before_it_matches_official(template_type, train):
    """An assistant message with both text and tool calls (Llama and Mistral drop the text, as Meta's and
    Mistral's templates do)."""
    _, text_args, _ = TOOL_FAMILIES[template_type]
    _, bos, eos = FAMILIES[template_type]
    tok = tokenizer('swift/tiny-qwen2', bos, eos)
    messages = conversation(True, False, text_args, answer=train, content='Let me check.')
    row = {'messages': copy.deepcopy(messages), 'tools': json.dumps(TOOLS)}
    text = get_template(template_type, tok).render_text(row, mode='train' if train else 'infer')
    assert text == official(template_type, messages, tok, train)
