"""Registering templates: ms-swift-style custom TemplateMeta from a plugin file, duplicates, did-you-mean."""
import importlib.util

import pytest

from swift.template import TEMPLATE_MAPPING, TemplateMeta, get_template, register_template
from swift.utils import TemplateError

PLUGIN = '''
from swift.template import TemplateMeta, register_template

register_template(
    TemplateMeta(
        template_type='custom_nemo_test',
        prefix=['<extra_id_0>System\\n{{SYSTEM}}\\n'],
        prompt=['<extra_id_1>User\\n{{QUERY}}\\n<extra_id_1>Assistant\\n'],
        chat_sep=['\\n']))
'''


def load_plugin(tmp_path):
    path = tmp_path / 'my_template.py'
    path.write_text(PLUGIN, encoding='utf-8')
    spec = importlib.util.spec_from_file_location('my_template_plugin', path)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def test_custom_template_from_plugin_file(qwen_tok, tmp_path):
    if 'custom_nemo_test' not in TEMPLATE_MAPPING:
        load_plugin(tmp_path)
    template = get_template('custom_nemo_test', qwen_tok)
    row = {'messages': [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'yo'},
                        {'role': 'user', 'content': 'more'}, {'role': 'assistant', 'content': 'ok'}]}
    assert template.render_text(row) == ('<extra_id_0>System\n\n<extra_id_1>User\nhi\n<extra_id_1>Assistant\nyo\n'
                                         '<extra_id_1>User\nmore\n<extra_id_1>Assistant\nok<|im_end|>')
    with_system = {'messages': [{'role': 'system', 'content': 'Be brief.'}] + row['messages']}
    assert template.render_text(with_system, mode='infer').startswith('<extra_id_0>System\nBe brief.\n<extra_id_1>')
    labels = template.encode(row)['labels']
    assert qwen_tok.decode([t for t in labels if t != -100]) == 'yook<|im_end|>'


def test_duplicate_registration_raises_unless_exist_ok():
    meta = TemplateMeta('dup_test', prefix=[], prompt=['{{QUERY}}'], chat_sep=[])
    register_template(meta, exist_ok=True)
    with pytest.raises(TemplateError, match='already registered'):
        register_template(meta)
    register_template(meta, exist_ok=True)


def test_unknown_template_suggests_close_names(qwen_tok):
    with pytest.raises(TemplateError, match='Did you mean: qwen2_5'):
        get_template('qwen25', qwen_tok)


def test_invalid_meta_is_rejected():
    with pytest.raises(TemplateError, match='QUERY'):
        TemplateMeta('bad', prefix=[], prompt=['no placeholder'], chat_sep=[])
    with pytest.raises(TemplateError, match='system_prefix'):
        TemplateMeta('bad', prefix=[], prompt=['{{QUERY}}'], chat_sep=[], default_system='x')


def test_system_on_template_without_system_role_fails_early(qwen_tok):
    with pytest.raises(TemplateError, match='no system prompt'):
        get_template('dummy', qwen_tok, default_system='Be nice.')
