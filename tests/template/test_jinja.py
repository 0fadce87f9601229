"""The tokenizer's own chat template: inference backend and the 'jinja' template type."""
import json

import pytest

from swift.template import get_template
from swift.utils import TemplateError

from ._utils import chat, train_row

TOOLS = [{'type': 'function', 'function': {'name': 'add', 'description': 'Add numbers', 'parameters': {}}}]


@pytest.mark.parametrize('tools', [None, TOOLS])
def test_jinja_backend_equals_swift_backend_for_qwen2_5(qwen_tok, tools):
    row = {'messages': chat(system=False), **({'tools': json.dumps(tools)} if tools else {})}
    swift_ids = get_template('qwen2_5', qwen_tok).encode(row, mode='infer')['input_ids']
    jinja = get_template('qwen2_5', qwen_tok, template_backend='jinja')
    assert jinja.encode(row, mode='infer')['input_ids'] == swift_ids


def test_jinja_backend_is_inference_only(qwen_tok):
    with pytest.raises(TemplateError, match='inference-only'):
        get_template('qwen2_5', qwen_tok, template_backend='jinja').encode(train_row())


def test_jinja_template_type_trains_by_diffing_renders(llama_tok):
    jinja = get_template('jinja', llama_tok)
    swift = get_template('llama3', llama_tok)
    row = train_row(rounds=2)
    encoded, expected = jinja.encode(row), swift.encode(row)
    assert encoded['input_ids'] == expected['input_ids']
    assert encoded['labels'] == expected['labels']
    assert jinja.encode(row, mode='infer')['input_ids'] == swift.encode(row, mode='infer')['input_ids']
