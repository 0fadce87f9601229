"""Inference text of every chat family equals its published Jinja chat template (rendered as transformers does)."""
import json

import pytest

from swift.template import get_template

from ._utils import chat, official_render, tokenizer

DEEPSEEK = ('<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>')
# template type -> (official jinja file(s), bos, eos of the family's tokenizer); sources in official_templates/README.md
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
    'mistral_nemo': ('mistral_nemo.jinja', '<s>', '</s>'),
    'gemma': ('gemma.jinja', '<bos>', '<eos>'),
    'glm4': ('glm4.jinja', None, None),
    'deepseek': ('deepseek.jinja', *DEEPSEEK),
    'deepseek_v2_5': ('deepseek_v2_5.jinja', *DEEPSEEK),
    'deepseek_r1': (('deepseek_r1.jinja', 'deepseek_r1_distill.jinja'), *DEEPSEEK),
    'internlm2': ('internlm2.jinja', '<s>', '</s>'),
    'phi3': (('phi3.jinja', 'phi3_5.jinja'), None, None),
    'phi4': ('phi4.jinja', None, None),
}


NO_SYSTEM_ROLE = {'gemma'}  # the official template raises on a system message
# GLM-4's official training text ends without an end-of-turn; ours supervises the '<|user|>' the model stops
# with (its generation_config eos), or a fine-tuned model would never stop.
TRAIN_END = {'glm4': '<|user|>'}


def _files(template_type):
    files = FAMILIES[template_type][0]
    return (files,) if isinstance(files, str) else files


def assert_matches(template_type, messages, tools=None, train=False):
    """Inference prompt (and with train=True the full training text) equals the official render."""
    _, bos, eos = FAMILIES[template_type]
    tok = tokenizer('swift/tiny-qwen2', bos, eos)
    template = get_template(template_type, tok)
    row = {'messages': messages, **({'tools': json.dumps(tools)} if tools else {})}
    for jinja_file in _files(template_type):
        expected = official_render(jinja_file, messages, tok, tools=tools, add_generation_prompt=not train)
        expected += TRAIN_END.get(template_type, '') if train else ''
        assert template.render_text(row, mode='train' if train else 'infer') == expected, jinja_file
        if not train:
            encoded = template.encode(row, mode='infer')
            assert tok.decode(encoded['input_ids']) == expected
            assert 'labels' not in encoded


@pytest.mark.parametrize('template_type', sorted(FAMILIES))
@pytest.mark.parametrize('system', [True, False])
def test_matches_official_template(template_type, system):
    if system and template_type in NO_SYSTEM_ROLE:
        pytest.skip('the official template has no system role')
    assert_matches(template_type, chat(system=system))


@pytest.mark.parametrize('template_type', sorted(FAMILIES))
@pytest.mark.parametrize('system', [True, False])
def test_training_text_matches_official_template(template_type, system):
    if system and template_type in NO_SYSTEM_ROLE:
        pytest.skip('the official template has no system role')
    messages = chat(system=system) + [{'role': 'assistant', 'content': 'It is 4.'}]
    assert_matches(template_type, messages, train=True)


@pytest.mark.parametrize('template_type', ['qwen3', 'deepseek_r1'])
def test_history_thinking_is_dropped_like_official(template_type):
    messages = chat(system=False)
    for m in messages:
        if m['role'] == 'assistant':
            m['content'] = '<think>\nadd the numbers\n</think>\n\n' + m['content']
    assert_matches(template_type, messages)


def test_llama3_tool_result_is_a_tool_turn():
    """Llama 3 has no tool format: with a native one (hermes) a tool message is a turn of its role, as its
    template renders it; with the default ReAct it is an Observation user turn."""
    tok = tokenizer('swift/tiny-llama')
    messages = chat(system=False, rounds=1) + [{'role': 'assistant', 'content': 'call'},
                                               {'role': 'tool', 'content': '42'}]
    text = get_template('llama3', tok, tools_prompt='hermes').render_text({'messages': messages}, mode='infer')
    assert text.endswith('call<|eot_id|><|start_header_id|>tool<|end_header_id|>\n\n42<|eot_id|>'
                         '<|start_header_id|>assistant<|end_header_id|>\n\n')
    assert text == official_render('llama3.jinja', messages, tok)
    react = get_template('llama3', tok).render_text({'messages': messages}, mode='infer')
    assert react.endswith('<|start_header_id|>user<|end_header_id|>\n\nObservation: 42<|eot_id|>'
                          '<|start_header_id|>assistant<|end_header_id|>\n\n')
