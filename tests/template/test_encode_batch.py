"""Batched encoding changes no token or label: `encode_batch` and the batched tokenizer path give exactly what one
tokenizer call per text piece gives, for every registered template, on the template test conversations and a
random sample of the built-in data."""
import random

import pytest

from swift.dataset import encode_dataset, load_dataset
from swift.template import TEMPLATE_MAPPING, get_template
from swift.utils import TemplateError
from ._utils import tokenizer, train_row

TOOLS = [{'type': 'function', 'function': {'name': 'add', 'description': 'Add numbers', 'parameters': {}}}]


@pytest.fixture(scope='module')
def rows():
    train, _ = load_dataset(['swift/self-cognition'], model_name=['小黄', 'Xiao Huang'],
                            model_author=['魔搭', 'ModelScope'])
    sample = [train[i] for i in random.Random(0).sample(range(len(train)), 40)]
    tool_turn = {'messages': [{'role': 'user', 'content': 'add 1 and 2'},
                              {'role': 'assistant', 'content': 'Action: add\nAction Input: {"a": 1, "b": 2}'},
                              {'role': 'tool', 'content': '3'}, {'role': 'assistant', 'content': 'It is 3.'}],
                 'tools': TOOLS}
    return sample + [train_row(system=True, rounds=3), train_row(rounds=1), tool_turn,
                     {'messages': [{'role': 'user', 'content': 'no answer'}]}]  # a row training cannot use


def _one_call_per_piece(template, row, mode):
    """The reference: each text piece through the tokenizer's own __call__, as encoding worked before batching."""
    input_ids, weights = [], []
    for content, weight in template._pieces(row, mode):
        ids = template.tokenizer(content, add_special_tokens=False)['input_ids'] if isinstance(content, str) \
            else content
        input_ids += ids
        weights += [weight] * len(ids)
    return template._finish(input_ids, weights, mode)


def _outcome(fn):
    try:
        return fn()
    except TemplateError as e:
        return type(e).__name__ + str(e)


@pytest.mark.parametrize('mode', ['train', 'infer'])
def test_batched_equals_one_call_per_piece(rows, mode):
    tok = tokenizer()
    for name in sorted(TEMPLATE_MAPPING):
        template = get_template(name, tok, max_length=48, truncation_strategy='left')
        batched = [r if not isinstance(r, TemplateError) else type(r).__name__ + str(r)
                   for r in template.encode_batch(rows, mode)]
        assert batched == [_outcome(lambda r=r: _one_call_per_piece(template, r, mode)) for r in rows], name
        assert batched == [_outcome(lambda r=r: template.encode(r, mode)) for r in rows], name


def test_encode_dataset_batched_equals_row_by_row(rows):
    import datasets
    template = get_template('qwen2_5', tokenizer(), max_length=64, truncation_strategy='delete')
    dataset = datasets.Dataset.from_list([r for r in rows if 'tools' not in r])
    batched, stats = encode_dataset(dataset, template)
    row_by_row, stats2 = encode_dataset(dataset, template, encoder=lambda row: [
        {k: template.encode(row).get(k) for k in ('input_ids', 'labels', 'loss_scale', 'length')}])
    assert batched.to_list() == row_by_row.to_list()
    assert (stats.rows_kept, stats.dropped) == (stats2.rows_kept, stats2.dropped) and stats.dropped
