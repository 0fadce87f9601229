"""--enable_thinking: Qwen3's thinking switch renders exactly as the official template's enable_thinking variable,
for the inference prompt (plain, after history with thinking, after tool results) and the training text; templates
without the switch refuse it in one line."""
import copy
import json
import os

import pytest

from swift.template import get_template
from swift.utils import TemplateError

from ._utils import OFFICIAL_DIR, chat, official_render, tokenizer

THINK = '<think>\nadd the numbers\n</think>\n\n'


def _conversations():
    history = chat(system=True)
    for m in history:
        if m['role'] == 'assistant':
            m['content'] = THINK + m['content']
    calls = [{'type': 'function', 'function': {'name': 'add', 'arguments': {'a': 1, 'b': 2}}}]
    tool = chat(system=False, rounds=1) + [{'role': 'assistant', 'content': '', 'tool_calls': calls},
                                           {'role': 'tool', 'content': '3'}]
    return {'plain': chat(system=False), 'history_thinking': history, 'after_tool': tool}


@pytest.mark.parametrize('name', ['plain', 'history_thinking', 'after_tool'])
@pytest.mark.parametrize('enable_thinking', [True, False])
@pytest.mark.parametrize('train', [False, True])
def test_qwen3_matches_official_enable_thinking(name, enable_thinking, train):
    tok = tokenizer()
    messages = _conversations()[name]
    if train:
        messages = messages + [{'role': 'assistant', 'content': 'It is 3.'}]
    template = get_template('qwen3', tok, enable_thinking=enable_thinking)
    tools = [{'type': 'function', 'function': {'name': 'add', 'parameters': {'type': 'object'}}}]
    row = {'messages': copy.deepcopy(messages), **({'tools': json.dumps(tools)} if name == 'after_tool' else {})}
    expected = official_render('qwen3.jinja', messages, tok, tools=tools if name == 'after_tool' else None,
                               add_generation_prompt=not train, enable_thinking=enable_thinking)
    assert template.render_text(row, mode='train' if train else 'infer') == expected
    if not train:
        assert expected.endswith('<think>\n\n</think>\n\n') == (not enable_thinking)
        assert tok.decode(template.encode(row, mode='infer')['input_ids']) == expected


def test_default_is_the_templates_default():
    tok = tokenizer()
    row = {'messages': chat(system=False)}
    default = get_template('qwen3', tok).render_text(row, mode='infer')
    assert default == official_render('qwen3.jinja', row['messages'], tok)
    assert default == get_template('qwen3', tok, enable_thinking=True).render_text(row, mode='infer')


@pytest.mark.parametrize('template_type, thinks', [('qwen2_5', False), ('llama3', False), ('deepseek_r1', True)])
def test_template_without_switch_takes_only_what_it_does(template_type, thinks):
    """ms-swift lines pass --enable_thinking false for Qwen2.5: satisfied as it is; the opposite is refused."""
    row = {'messages': chat(system=False)}
    plain = get_template(template_type, tokenizer()).render_text(row, mode='infer')
    assert get_template(template_type, tokenizer(), enable_thinking=thinks).render_text(row, mode='infer') == plain
    with pytest.raises(TemplateError, match=rf"--enable_thinking {str(not thinks).lower()}: template "
                                            rf"'{template_type}' has no thinking switch and "
                                            rf"{'always' if thinks else 'never'} thinks"):
        get_template(template_type, tokenizer(), enable_thinking=not thinks)


def test_jinja_backend_passes_the_switch():
    """template_backend jinja: the tokenizer's own chat template gets enable_thinking (here Qwen3's)."""
    tok = copy.deepcopy(tokenizer())
    with open(os.path.join(OFFICIAL_DIR, 'qwen3.jinja'), encoding='utf-8') as f:
        tok.chat_template = f.read()
    row = {'messages': chat(system=False)}
    text = get_template('qwen2_5', tok, template_backend='jinja', enable_thinking=False).render_text(row, 'infer')
    assert text == get_template('qwen3', tok, enable_thinking=False).render_text(row, 'infer')
    with pytest.raises(TemplateError, match='no thinking switch and never thinks'):
        get_template('qwen2_5', tokenizer(), template_backend='jinja', enable_thinking=True)


def test_flag_reaches_the_template_from_the_command_line():
    from swift.arguments import parse_args
    from swift.arguments.infer_args import InferArguments
    from swift.pipelines.base import build_template
    args = parse_args(InferArguments, ['--model', 'swift/tiny-qwen2', '--template', 'qwen3', '--enable_thinking',
                                       'false'])
    assert args.enable_thinking is False
    text = build_template(args, tokenizer(), mode='infer').render_text({'messages': chat(system=False)})
    assert text.endswith('<|im_start|>assistant\n<think>\n\n</think>\n\n')


def test_ollama_modelfile_carries_the_switch():
    from swift.export.ollama import go_template
    generation = '{{ if $last }}<|im_end|>\n<|im_start|>assistant\n'
    assert generation + '{{ else }}' in go_template(get_template('qwen3', tokenizer()))
    no_think = go_template(get_template('qwen3', tokenizer(), enable_thinking=False))
    assert generation + '<think>\n\n</think>\n\n{{ else }}' in no_think
