"""Fast encoding changes no token or label: `encode`, `encode_batch` and `encode_dataset` give exactly what a
straightforward encoder gives (one tokenizer call per text piece, per-token weights, then bos, truncation,
labels), for every registered template, several loss scales, tool rows, the template test conversations, a
random sample of the built-in data and adversarial Unicode text."""
import json
import random

import pytest

from swift.dataset import encode_dataset, load_dataset
from swift.template import TEMPLATE_MAPPING, get_template
from swift.template.base import MaxLengthError
from swift.template.pretokenized import PretokenizedEncoder
from swift.utils import TemplateError

from ._utils import chat, tokenizer, train_row
from .test_official_tools import TOOLS, conversation

ODD_TEXTS = [
    'caf\u00e9 cafe\u0301 \ufb01le \u017ftar I\'M don\'T it\u2019s \u00a0x\u2003y\x1c\x85z\u200b \U0001fae8 '
    '\u0661\u0662 \u216b \u00bd \u01c5 \r\n\r\n  \t\tend   ',
    'a\u0316\u0301 e\u0301\u0316 \u1e0b\u0323 \uac00\u11a8 \u0915\u093f \u05e9\u05c1\u05b8 \u0e01\u0e33',
    '<|im_end|> in the content, <|im_start|>user and <|endoftext|>' + 'x' * 90,
    '数学' * 50 + ' 123456789 ' + 'Supercalifragilisticexpialidocious' * 3 + ' \n\n\n ' + '!!??..' * 20,
]
LOSS_SCALES = ['default', 'last_round', 'all', 'react', 'hermes', 'qwen', 'agentflan', 'alpha_umi']


@pytest.fixture(scope='module')
def rows():
    train, _ = load_dataset(['swift/self-cognition'], model_name=['小黄', 'Xiao Huang'],
                            model_author=['魔搭', 'ModelScope'])
    sample = [train[i] for i in random.Random(0).sample(range(len(train)), 40)]
    react = {'messages': [{'role': 'user', 'content': 'What is the tool you want to use? add 1 and 2'},
                          {'role': 'assistant', 'content': 'Thought: add\nAction: add\nAction Input: {"a": 1}\n'
                                                           'Observation: 3\nFinal Answer: 3 <tool_call>x</tool_call>'},
                          {'role': 'tool', 'content': '3'}, {'role': 'assistant', 'content': '✿RESULT✿: It is 3.'}],
             'tools': json.dumps(TOOLS)}
    structured = {'messages': conversation(True, True, False, True, content='Let me check.'), 'tools': TOOLS}
    odd = [{'messages': [{'role': 'system', 'content': ODD_TEXTS[0]}, {'role': 'user', 'content': ODD_TEXTS[1]},
                         {'role': 'assistant', 'content': t}]} for t in ODD_TEXTS]
    return sample + odd + [train_row(system=True, rounds=3), train_row(rounds=1), react, structured,
                           {'messages': chat(False, 2)},  # ends with a user turn: training cannot use it
                           {'messages': [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': ''}]}]


def _reference(template, row, mode):
    """One tokenizer call per text piece and per-token weights, as encoding worked before it was fast."""
    tok, input_ids, weights = template.tokenizer, [], []
    for content, weight in template._pieces(row, mode):
        ids = tok(content, add_special_tokens=False)['input_ids'] if isinstance(content, str) else content
        input_ids += ids
        weights += [weight] * len(ids)
    head = tok('', add_special_tokens=True)['input_ids']
    if template.template_meta.auto_add_bos and head and input_ids[:len(head)] != head:
        input_ids, weights = head + input_ids, [0.] * len(head) + weights
    limit = template.max_length
    if limit is not None and len(input_ids) > limit:
        if template.truncation_strategy == 'delete':
            raise MaxLengthError(f'Encoded length {len(input_ids)} exceeds max_length {limit}; raise --max_length or '
                                 'set --truncation_strategy left/right.')
        keep = slice(-limit, None) if template.truncation_strategy == 'left' else slice(0, limit)
        input_ids, weights = input_ids[keep], weights[keep]
    out = {'input_ids': input_ids, 'length': len(input_ids)}
    if mode != 'infer':
        out['labels'] = [t if w > 0 else -100 for t, w in zip(input_ids, weights)]
        out['loss_scale'] = None if all(w in (0., 1.) for w in weights) else weights
    return out


def _outcome(fn):
    try:
        return fn()
    except TemplateError as e:
        return type(e).__name__ + str(e)


def _check(template, rows, mode):
    batched = [r if not isinstance(r, TemplateError) else type(r).__name__ + str(r)
               for r in template.encode_batch(rows, mode)]
    expected = [_outcome(lambda r=r: _reference(template, r, mode)) for r in rows]
    assert batched == expected
    assert [_outcome(lambda r=r: template.encode(r, mode)) for r in rows] == expected
    return batched


@pytest.mark.parametrize('mode', ['train', 'infer'])
@pytest.mark.parametrize('truncation', ['left', 'right', 'delete'])
def test_every_template_equals_the_reference(rows, mode, truncation):
    for name in sorted(TEMPLATE_MAPPING):
        tok = tokenizer('swift/tiny-llama') if name.startswith('llama') else tokenizer()
        template = get_template(name, tok, max_length=48, truncation_strategy=truncation)
        try:
            _check(template, rows, mode)
        except AssertionError as e:
            raise AssertionError(f'template {name}') from e


@pytest.mark.parametrize('loss_scale', LOSS_SCALES)
def test_loss_scales_and_tools_equal_the_reference(rows, loss_scale):
    for name, tok in (('qwen2_5', tokenizer()), ('llama3_1', tokenizer('swift/tiny-llama')),
                      ('llama', tokenizer('swift/tiny-llama', bos='<s>', eos='</s>'))):
        template = get_template(name, tok, max_length=40, truncation_strategy='left', loss_scale=loss_scale)
        _check(template, rows, 'train')
        encoded = _check(get_template(name, tok, loss_scale=loss_scale), rows, 'train')
        if loss_scale in ('react', 'agentflan') and name == 'qwen2_5':
            assert any(isinstance(e, dict) and e['loss_scale'] for e in encoded)  # weights other than 0/1 are used


def test_random_text_equals_the_rust_tokenizer():
    """The pre-token path against the Rust tokenizer on random text mixing scripts, marks, spaces, digits and
    special tokens; each tokenizer takes the fast path."""
    rng = random.Random(0)
    alphabet = list('abcXYZ  \t\n\r0123.,!?\'"-_') + [
        '数', '学', '模', '\u0301', '\u0316', '\u00e9', '\u017f', '\u00a0', '\u2003', '\u0661', '\u00bd', '\U0001f600',
        '\x85', "'s", "'LL"]
    specials = ['<|im_end|>', '<|im_start|>', '<|endoftext|>']
    texts = [''.join(rng.choice(alphabet + specials if rng.random() < 0.05 else alphabet)
                     for _ in range(rng.randint(0, 80))) for _ in range(2000)]
    for tok in (tokenizer(), tokenizer('swift/tiny-llama'), tokenizer('swift/tiny-llama', bos='<s>', eos='</s>')):
        encoder = PretokenizedEncoder.build(tok._tokenizer)
        assert encoder is not None
        expected = [tok(t, add_special_tokens=False)['input_ids'] for t in texts]
        assert encoder.encode(texts) == expected
        assert encoder.encode(texts) == expected  # again, from the cache


def test_added_tokens_after_first_use_are_split(rows):
    import copy
    tok = copy.deepcopy(tokenizer())
    template = get_template('qwen2_5', tok, max_length=64, truncation_strategy='left')
    row = {'messages': [{'role': 'user', 'content': 'say <new_tok> twice <new_tok>'},
                        {'role': 'assistant', 'content': 'ok <new_tok>'}]}
    before = template.encode(row)
    tok.add_special_tokens({'additional_special_tokens': ['<new_tok>']})
    after = template.encode(row)
    new_id = tok.convert_tokens_to_ids('<new_tok>')
    assert new_id not in before['input_ids'] and after['input_ids'].count(new_id) == 3
    assert after == _reference(template, row, 'train')


def test_other_tokenizers_take_the_rust_path():
    """A tokenizer that is not byte-level BPE (here WordPiece-like whitespace splitting) is left to Rust."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    backend = Tokenizer(models.WordLevel({'[UNK]': 0, 'hello': 1, 'world': 2}, unk_token='[UNK]'))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    assert PretokenizedEncoder.build(backend) is None
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token='[UNK]')
    template = get_template('default', tok, max_length=None)
    row = {'messages': [{'role': 'user', 'content': 'hello world'}, {'role': 'assistant', 'content': 'world x'}]}
    assert template.encode_batch([row])[0] == _reference(template, row, 'train')


def test_encode_dataset_equals_row_by_row(rows):
    import datasets
    template = get_template('qwen2_5', tokenizer(), max_length=64, truncation_strategy='delete')
    dataset = datasets.Dataset.from_list([{'messages': r['messages']} for r in rows if 'tools' not in r])
    batched, stats = encode_dataset(dataset, template)
    row_by_row, stats2 = encode_dataset(dataset, template, encoder=lambda row: [
        {k: v for k, v in _reference(template, row, 'train').items()}])
    assert batched.to_list() == row_by_row.to_list() and batched.features == row_by_row.features
    assert (stats.rows_kept, stats.dropped) == (stats2.rows_kept, stats2.dropped) and stats.dropped


def test_encode_dataset_streams_to_arrow_and_num_proc_changes_nothing(rows):
    """Encoded sft rows are written to memory-mapped Arrow shards with the schema Dataset.from_dict gave them;
    two processes give the same rows in the same order."""
    import datasets
    template = get_template('qwen2_5', tokenizer(), max_length=200, loss_scale='react')
    plain = [{'messages': r['messages']} for r in rows if not isinstance(r.get('tools'), list)]
    dataset = datasets.Dataset.from_list(plain * (2400 // len(plain) + 1))
    one, stats1 = encode_dataset(dataset, template)
    two, stats2 = encode_dataset(dataset, template, num_proc=2)
    reference = datasets.Dataset.from_list([_reference(template, r, 'train') for r in dataset
                                            if isinstance(_outcome(lambda r=r: _reference(template, r, 'train')),
                                                          dict)])
    assert one.cache_files and len(two.cache_files) > 1  # file-backed, one shard per chunk
    assert one.features == reference.features and 'loss_scale' in one.features
    assert one.to_list() == two.to_list() == reference.to_list()
    assert (stats1.rows_kept, stats1.dropped, stats1.lengths) == (stats2.rows_kept, stats2.dropped, stats2.lengths)
