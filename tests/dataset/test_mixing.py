"""Mixing --dataset entries (ms-swift --interleave_prob/--stopping_strategy, LLaMA-Factory --mix_strategy/
--interleave_probs), #N upsampling, and the per-entry row counts in the log."""
from collections import Counter

import pytest

from swift.arguments import SftArguments, parse_args
from swift.dataset import load_dataset
from swift.utils import ArgumentError, DatasetError


def _files(write, sizes):
    return [write(f'{name}.jsonl', [{'query': f'{name}{i}', 'response': 'r'} for i in range(n)])
            for name, n in zip('abc', sizes)]


def _sources(train):
    return Counter(m[0]['content'][0] for m in train['messages'])


def _queries(train):
    return [m[0]['content'] for m in train['messages']]


def test_concat_keeps_every_row_in_order(write, swift_log):
    a, b = _files(write, [3, 5])
    train, _ = load_dataset([a, b])
    assert _queries(train) == [f'a{i}' for i in range(3)] + [f'b{i}' for i in range(5)]
    assert f'{a}: 3 rows (37.5%); {b}: 5 rows (62.5%); total 8' in swift_log.text


@pytest.mark.parametrize('strategy,expected', [
    ('interleave_under', {'a': 3, 'b': 3}),   # alternate until the shorter entry runs out (first_exhausted)
    ('interleave_over', {'a': 5, 'b': 5}),    # until every row of the longer one was seen; a repeats (all_exhausted)
])
def test_interleave_without_probabilities_alternates(write, strategy, expected):
    a, b = _files(write, [3, 5])
    train, _ = load_dataset([a, b], mix_strategy=strategy)
    assert dict(_sources(train)) == expected
    assert _queries(train)[:4] == ['a0', 'b0', 'a1', 'b1']


def test_interleave_with_probabilities_is_seeded(write, swift_log):
    a, b = _files(write, [20, 20])
    train, _ = load_dataset([a, b], mix_strategy='interleave_under', interleave_probs=[0.8, 0.2])
    counts = _sources(train)
    assert counts['a'] == 20 and 0 < counts['b'] < 12  # a runs out first; b drawn ~1 in 5
    again, _ = load_dataset([a, b], mix_strategy='interleave_under', interleave_probs=[0.8, 0.2])
    other, _ = load_dataset([a, b], mix_strategy='interleave_under', interleave_probs=[0.8, 0.2], seed=7)
    assert _queries(train) == _queries(again) and _queries(train) != _queries(other)
    assert f'train dataset mix [interleave_under]: {a}: 20 rows' in swift_log.text
    assert f'{b}: {counts["b"]} rows' in swift_log.text


def test_interleave_over_repeats_until_all_seen(write):
    a, b = _files(write, [4, 10])
    train, _ = load_dataset([a, b], mix_strategy='interleave_over', interleave_probs=[0.5, 0.5])
    counts = _sources(train)
    assert set(_queries(train)) == {f'a{i}' for i in range(4)} | {f'b{i}' for i in range(10)}
    assert counts['b'] >= 10 and counts['a'] >= 4


def test_upsampling_then_mixing_counts(write, swift_log):
    a, b = _files(write, [4, 10])
    train, _ = load_dataset([f'{a}#10', f'{b}#3'])
    counts = Counter(_queries(train))
    assert sum(v for k, v in counts.items() if k[0] == 'a') == 10
    assert sorted(v for k, v in counts.items() if k[0] == 'a') == [2, 2, 3, 3]  # twice each + 2 random rows
    assert sum(v for k, v in counts.items() if k[0] == 'b') == 3 and max(counts.values()) <= 3
    assert f'{a}#10: 10 rows (76.9%); {b}#3: 3 rows (23.1%); total 13' in swift_log.text


def test_upsampled_entry_never_trains_on_its_validation_rows(write):
    a, = _files(write, [10])
    train, val = load_dataset([f'{a}#25'], split_dataset_ratio=0.2)
    assert len(val) == 2 and len(train) == 23  # ms-swift: val = 20% of min(size, N); train = N - val
    assert set(_queries(val)).isdisjoint(_queries(train))
    assert sorted(Counter(_queries(train)).values()) == [2] * 1 + [3] * 7  # 8 rows x2 + 7 random extra


def test_streaming_interleave(write):
    a, b = _files(write, [3, 5])
    train, _ = load_dataset([a, b], streaming=True, mix_strategy='interleave_over')
    rows = [r['messages'][0]['content'] for r in train]
    assert Counter(q[0] for q in rows) == {'a': 5, 'b': 5}
    streamed, _ = load_dataset([f'{b}#2'], streaming=True)
    assert [r['messages'][0]['content'] for r in streamed] == ['b0', 'b1']  # streaming #N: the first N rows


def test_bad_probabilities_are_refused(write):
    a, b = _files(write, [3, 3])
    with pytest.raises(DatasetError, match='sum to 1'):
        load_dataset([a, b], mix_strategy='interleave_under', interleave_probs=[0.5, 0.6])


def _args(*argv):
    args = parse_args(SftArguments, ['--model', 'swift/tiny-qwen2', *argv])
    args.validate()
    return args


def test_ms_swift_and_llamafactory_flags_map_to_one_mix():
    mixed = _args('--dataset', 'a', 'b', '--interleave_prob', '0.3', '0.7').mixing()
    assert mixed == ('interleave_under', [0.3, 0.7])
    assert _args('--dataset', 'a', 'b', '--interleave_prob', '0.3', '0.7', '--stopping_strategy',
                 'all_exhausted').mixing() == ('interleave_over', [0.3, 0.7])
    assert _args('--dataset', 'a', 'b', '--mix_strategy', 'interleave_over', '--interleave_probs',
                 '0.6,0.4').mixing() == ('interleave_over', [0.6, 0.4])
    assert _args('--dataset', 'a', 'b').mixing() == ('concat', None)


@pytest.mark.parametrize('argv,match', [
    (['--interleave_prob', '0.5', '0.5', '--mix_strategy', 'interleave_over'], 'pass one of them'),
    (['--stopping_strategy', 'all_exhausted'], 'applies with --interleave_prob only'),
    (['--interleave_probs', '0.5,0.5'], 'applies with --mix_strategy'),
    (['--interleave_prob', '0.5', '0.2'], 'sum to 1'),
    (['--interleave_prob', '1.0'], '1 values for 2 --dataset entries'),
    (['--mix_strategy', 'interleave_under', '--interleave_probs', '0.5;0.5'], 'comma-separated'),
])
def test_inconsistent_mix_flags_fail_in_one_line(argv, match):
    with pytest.raises(ArgumentError, match=match):
        _args('--dataset', 'a', 'b', *argv)
