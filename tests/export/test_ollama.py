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


def _render(go: str, system: str, messages) -> str:
    """A tiny evaluator for the template shape go_template writes, enough to compare with our encoder."""
    head, body = go.split('{{ range $i, $_ := .Messages }}')
    system_text, plain = re.fullmatch(r'\{\{ if \.System \}\}(.*)\{\{ else \}\}(.*)\{\{ end \}\}', head, re.S).groups()
    user = re.search(r'\{\{ if eq \.Role "user" \}\}(.*)\{\{ else if', body, re.S).group(1)
    sep = re.search(r'\{\{ if not \$last \}\}(.*?)\{\{ end \}\}', body, re.S).group(1)
    out = system_text.replace('{{ .System }}', system) if system else plain
    for i, m in enumerate(messages):
        if m['role'] == 'user':
            out += user.replace('{{ .Content }}', m['content'])
        else:
            out += m['content'] + (sep if i < len(messages) - 1 else '')
    return out


def test_go_template_renders_like_our_template():
    for name in ('swift/tiny-qwen2', 'swift/tiny-llama'):
        template = _template(name)
        messages = [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello!'},
                    {'role': 'user', 'content': 'Name a color.'}]
        row = {'messages': [{'role': 'system', 'content': 'Be brief.'}] + messages}
        ids = template.encode(row, mode='infer')['input_ids']
        expected = template.tokenizer.decode(ids)
        bos = template.tokenizer.bos_token
        if bos and expected.startswith(bos):
            expected = expected[len(bos):]  # the GGUF tokenizer adds bos itself (tokenizer.ggml.add_bos_token)
        assert _render(go_template(template), 'Be brief.', messages) == expected, name


def test_modelfile_lines():
    text = modelfile_text(_template('swift/tiny-qwen2'), './model.gguf')
    lines = text.splitlines()
    assert lines[0] == 'FROM ./model.gguf' and lines[1].startswith('TEMPLATE """{{ if .System }}<|im_start|>system')
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
