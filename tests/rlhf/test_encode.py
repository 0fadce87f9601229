"""Preference rows are encoded by the template with one shared prompt encoding."""
import pytest

from swift.model import get_model_tokenizer
from swift.template import get_template
from swift.template.rlhf import encode_kto, encode_preference, encode_prompt
from swift.utils import TemplateError


@pytest.fixture(scope='module')
def template():
    _, tokenizer = get_model_tokenizer('swift/tiny-qwen2', load_model=False)
    return get_template(tokenizer.model_meta.template, tokenizer, loss_scale='last_round')


ROW = {'messages': [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi'},
                    {'role': 'assistant', 'content': 'Hello!'}, {'role': 'user', 'content': 'Color?'},
                    {'role': 'assistant', 'content': 'Blue.'}], 'rejected_response': 'I refuse.'}


def test_chosen_and_rejected_share_the_prompt(template):
    pair = encode_preference(template, ROW)
    chosen_full = template.encode(ROW)['input_ids']
    rejected_full = template.encode({**ROW, 'messages': ROW['messages'][:-1] + [
        {'role': 'assistant', 'content': 'I refuse.'}]})['input_ids']
    # the completion stops at the end-of-turn token: the '\n' layout after it is no model output
    assert pair['prompt_ids'] + pair['chosen_ids'] == chosen_full[:-1]
    assert pair['prompt_ids'] + pair['rejected_ids'] == rejected_full[:-1]
    assert template.decode(pair['chosen_ids'][-1:], skip_special_tokens=False) == '<|im_end|>'
    assert pair['prompt_ids'] == encode_prompt(template, ROW)
    assert template.decode(pair['chosen_ids']).startswith('Blue.')
    kto = encode_kto(template, {**ROW, 'label': False})
    assert kto['prompt_ids'] == pair['prompt_ids'] and kto['label'] is False


def test_missing_rejected_is_a_template_error(template):
    with pytest.raises(TemplateError, match='no rejected response'):
        encode_preference(template, {'messages': ROW['messages']})
