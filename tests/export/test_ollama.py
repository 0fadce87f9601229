"""--to_ollama: a Modelfile whose Go TEMPLATE spells our TemplateMeta, with SYSTEM and PARAMETER stop lines."""
import re

import pytest

from swift.export.ollama import go_template, modelfile_text
from swift.model import get_model_tokenizer
from swift.pipelines.export import export_main
from swift.template import get_template


def _template(name):
    _, tokenizer = get_model_tokenizer(name, load_model=False)
    return get_template(tokenizer.model_meta.template, tokenizer)


def _parse(go: str):
    """Go text/template actions and literal text -> a nested tree (the subset go_template writes)."""
    tokens = re.split(r'(\{\{.*?\}\})', go)
    stack = [('root', None, [], None)]
    for tok in tokens:
        if not tok.startswith('{{'):
            stack[-1][2].append(('text', tok))
            continue
        action = tok[2:-2].strip()
        if action.startswith(('if ', 'range ')):
            stack.append((action.split()[0], action.split(' ', 1)[1], [], None))
        elif action.startswith('else'):
            kind, cond, body, _ = stack.pop()
            rest = action[4:].strip()
            node = ('elseif', rest[3:], [], None) if rest.startswith('if ') else ('else', None, [], None)
            stack.append((kind, cond, body, node))
            stack.append(node)
        elif action == 'end':
            node = stack.pop()
            while node[0] in ('elseif', 'else'):
                node = stack.pop()
            stack[-1][2].append(node)
        else:
            stack[-1][2].append(('expr', action))
    return stack[0][2]


def _value(expr: str, dot: dict, env: dict):
    """Go template pipelines: eq/len/slice calls, parentheses, "strings", numbers, $variables, .Fields."""
    tokens = re.findall(r'\(|\)|"[^"]*"|[^\s()]+', expr)

    def term(pos):
        tok = tokens[pos]
        if tok == '(':
            value, pos = call(pos + 1)
            return value, pos + 1  # the ')'
        if tok.startswith('"'):
            return tok[1:-1], pos + 1
        if tok.isdigit():
            return int(tok), pos + 1
        if tok.startswith('$.'):
            return env['$root'][tok[2:]], pos + 1
        if tok.startswith('$'):
            return env[tok], pos + 1
        return dot[tok[1:]], pos + 1

    def call(pos):
        name = tokens[pos]
        funcs = {'eq': lambda a, b: a == b, 'len': len, 'slice': lambda a, i: a[i:]}
        if name not in funcs:
            return term(pos)
        values, pos = [], pos + 1
        while pos < len(tokens) and tokens[pos] != ')':
            value, pos = term(pos)
            values.append(value)
        return funcs[name](*values), pos
    return call(0)[0]


def _run(nodes, dot, env, out):
    for node in nodes:
        kind = node[0]
        if kind == 'text':
            out.append(node[1])
        elif kind == 'expr':
            if ':=' in node[1] or ' = ' in node[1]:
                name, value = re.split(r'\s*:?=\s*', node[1], maxsplit=1)
                env[name] = _value(value, dot, env)
            else:
                out.append(str(_value(node[1], dot, env)))
        elif kind == 'range':
            names, _, source = node[1].rpartition(':=')
            for i, item in enumerate(_value(source.strip(), dot, env)):
                if names:
                    env[names.split(',')[0].strip()] = i
                _run(node[2], item, env, out)
        else:  # if / else if / else chain
            branch = node
            while branch is not None:
                if branch[0] == 'else' or _value(branch[1], dot, env):
                    _run(branch[2], dot, env, out)
                    break
                branch = branch[3]


def _render(go: str, system: str, messages) -> str:
    """Evaluate the Go TEMPLATE as Ollama would, for the actions go_template uses."""
    out = []
    root = {'System': system, 'Messages': [{'Role': m['role'], 'Content': m['content']} for m in messages]}
    _run(_parse(go), root, {'$root': root}, out)
    return ''.join(out)


def _expected(template, system, messages) -> str:
    row = {'messages': ([{'role': 'system', 'content': system}] if system else []) + messages}
    expected = template.render_text(row, mode='infer')
    bos = template.tokenizer.bos_token
    return expected[len(bos):] if bos and expected.startswith(bos) else expected  # GGUF adds bos itself


MESSAGES = [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello!'},
            {'role': 'user', 'content': 'Name a color.'}]


def test_go_template_renders_like_our_template():
    for name in ('swift/tiny-qwen2', 'swift/tiny-llama'):
        template = _template(name)
        ids = template.encode({'messages': [{'role': 'system', 'content': 'Be brief.'}] + MESSAGES},
                              mode='infer')['input_ids']
        expected = template.tokenizer.decode(ids)
        bos = template.tokenizer.bos_token
        if bos and expected.startswith(bos):
            expected = expected[len(bos):]  # the GGUF tokenizer adds bos itself (tokenizer.ggml.add_bos_token)
        assert _render(go_template(template), 'Be brief.', MESSAGES) == expected, name


def test_every_registered_template_renders_exactly_or_is_refused():
    """Family code included: the Go TEMPLATE equals our inference render, or export refuses it in one line."""
    from swift.template import TEMPLATE_MAPPING
    from swift.utils import SwiftError
    _, tokenizer = get_model_tokenizer('swift/tiny-qwen2', load_model=False)
    rendered, refused = [], []
    for name in sorted(TEMPLATE_MAPPING):
        try:
            template = get_template(name, tokenizer)
        except Exception:
            continue  # needs a tokenizer with other special tokens
        try:
            go = go_template(template)
        except SwiftError as e:
            assert '\n' not in str(e) and name in str(e)
            refused.append(name)
            continue
        for system in (None, 'Be brief.') if template._accepts_system() else (None,):
            for messages in (MESSAGES[:1], MESSAGES):
                expected = _expected(template, system, messages) if system else _expected(
                    _no_default_system(template), None, messages)
                assert _render(go, system or '', messages) == expected, (name, system, len(messages))
        rendered.append(name)
    assert {'qwen2_5', 'llama3', 'chatml'} <= set(rendered), rendered
    assert 'mistral' in rendered and 'gemma' in rendered, (rendered, refused)  # system folded into a user turn


def _no_default_system(template):
    import copy
    template = copy.copy(template)
    template.default_system = None
    return template


def test_modelfile_lines():
    text = modelfile_text(_template('swift/tiny-qwen2'), './model.gguf')
    lines = text.splitlines()
    assert lines[0] == 'FROM ./model.gguf'
    assert lines[1].startswith('TEMPLATE """{{ $prev := "" }}{{ if .System }}<|im_start|>system')
    assert 'SYSTEM """You are Qwen, created by Alibaba Cloud. You are a helpful assistant."""' in lines
    assert lines[-2:] == ['PARAMETER stop "<|im_end|>"', 'PARAMETER stop "<|endoftext|>"']


def test_export_gguf_and_ollama(ckpt, tmp_path):
    pytest.importorskip('gguf')
    out = tmp_path / 'ollama'
    result = export_main(['--adapters', ckpt, '--to_gguf', 'true', '--to_ollama', 'true', '--system', 'Be brief.',
                          '--output_dir', str(out)])
    assert sorted(p.name for p in out.iterdir()) == ['Modelfile', 'model.gguf']
    text = open(result['modelfile'], encoding='utf-8').read()
    assert text.startswith('FROM ./model.gguf\n') and 'SYSTEM """Be brief."""' in text


def test_ollama_only_points_at_the_merged_weights(ckpt, tmp_path):
    out = tmp_path / 'ollama'
    export_main(['--adapters', ckpt, '--to_ollama', 'true', '--output_dir', str(out)])
    assert (out / 'model.safetensors').is_file() and (out / 'args.json').is_file()
    assert open(out / 'Modelfile', encoding='utf-8').readline() == 'FROM .\n'
