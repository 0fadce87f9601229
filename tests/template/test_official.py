"""Inference text of every chat family equals its published Jinja chat template (rendered as transformers does)."""
import json

import pytest

from swift.template import get_template

from ._utils import chat, official_render, tokenizer

DEEPSEEK = ('<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>')
# template type -> (official jinja file, bos, eos of the family's tokenizer)
FAMILIES = {
    'chatml': ('chatml.jinja', None, None),
    'yi': ('chatml.jinja', None, None),
    'qwen': ('qwen.jinja', None, None),
    'qwen2_5': ('qwen2_5.jinja', None, None),
    'qwen3': ('qwen3.jinja', None, None),
    'llama': ('llama.jinja', '<s>', '</s>'),
    'llama3': ('llama3.jinja', '<|begin_of_text|>', '<|eot_id|>'),
    'llama3_1': ('llama3_1.jinja', '<|begin_of_text|>', '<|eot_id|>'),
    'llama3_2': ('llama3_2.jinja', '<|begin_of_text|>', '<|eot_id|>'),
    'mistral': ('mistral.jinja', '<s>', '</s>'),
    'gemma': ('gemma.jinja', '<bos>', '<eos>'),
    'glm4': ('glm4.jinja', None, None),
    'deepseek': ('deepseek.jinja', *DEEPSEEK),
    'deepseek_v2_5': ('deepseek_v2_5.jinja', *DEEPSEEK),
    'deepseek_r1': ('deepseek_r1.jinja', *DEEPSEEK),
    'internlm2': ('internlm2.jinja', '<s>', '</s>'),
    'phi3': ('phi3.jinja', None, None),
    'phi4': ('phi4.jinja', None, None),
}


def assert_matches(template_type, messages, tools=None):
    jinja_file, bos, eos = FAMILIES[template_type]
    tok = tokenizer('swift/tiny-qwen2', bos, eos)
    template = get_template(template_type, tok)
    row = {'messages': messages, **({'tools': json.dumps(tools)} if tools else {})}
    expected = official_render(jinja_file, messages, tok, tools=tools)
    assert template.render_text(row, mode='infer') == expected
    encoded = template.encode(row, mode='infer')
    assert tok.decode(encoded['input_ids']) == expected
    assert 'labels' not in encoded


@pytest.mark.parametrize('template_type', sorted(FAMILIES))
@pytest.mark.parametrize('system', [True, False])
def test_matches_official_template(template_type, system):
    assert_matches(template_type, chat(system=system))


@pytest.mark.parametrize('template_type', ['qwen3', 'deepseek_r1'])
def test_history_thinking_is_dropped_like_official(template_type):
    messages = chat(system=False)
    for m in messages:
        if m['role'] == 'assistant':
            m['content'] = '<think>\nadd the numbers\n</think>\n\n' + m['content']
    assert_matches(template_type, messages)


WEATHER = {'name': 'get_weather', 'description': 'Weather of a city',
           'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}}}
TOOLS = [{'type': 'function', 'function': WEATHER}]


@pytest.mark.parametrize('template_type', ['qwen2_5', 'qwen3'])
@pytest.mark.parametrize('system', [True, False])
def test_qwen_tools_and_tool_results_match_official(template_type, system):
    messages = chat(system=system, rounds=1) + [
        {'role': 'assistant', 'content': '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n'
                                         '</tool_call>'},
        {'role': 'tool', 'content': '{"temp": 21}'},
        {'role': 'tool', 'content': '{"wind": 3}'},
    ]
    assert_matches(template_type, messages, tools=TOOLS)


def test_llama3_tool_result_is_an_ipython_turn():
    tok = tokenizer('swift/tiny-llama')
    messages = chat(system=False, rounds=1) + [{'role': 'assistant', 'content': 'call'},
                                               {'role': 'tool', 'content': '42'}]
    text = get_template('llama3', tok).render_text({'messages': messages}, mode='infer')
    assert text.endswith('call<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n42<|eot_id|>'
                         '<|start_header_id|>assistant<|end_header_id|>\n\n')
