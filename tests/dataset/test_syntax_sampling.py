"""`--dataset` syntax, `#N` sampling and the train/val split."""
from collections import Counter

from swift.dataset import DatasetSyntax, load_dataset


def test_syntax_parse(tmp_path):
    assert DatasetSyntax.parse('AI-ModelScope/alpaca') == DatasetSyntax('AI-ModelScope/alpaca', [], None)
    assert DatasetSyntax.parse('org/ds:sub1/sub2#100') == DatasetSyntax('org/ds', ['sub1', 'sub2'], 100)
    assert DatasetSyntax.parse('org/ds:all') == DatasetSyntax('org/ds', ['all'], None)
    assert DatasetSyntax.parse('/data/train.jsonl#5') == DatasetSyntax('/data/train.jsonl', [], 5)
    assert DatasetSyntax.parse('/data/v1:x/train.jsonl') == DatasetSyntax('/data/v1:x/train.jsonl', [], None)
    odd = tmp_path / 'a:b'
    odd.write_text('')
    assert DatasetSyntax.parse(str(odd)).dataset == str(odd)  # an existing path is never split


def _file(write, n):
    return write('d.jsonl', [{'query': f'q{i}', 'response': 'r'} for i in range(n)])


def _queries(train):
    return [m[0]['content'] for m in train['messages']]


def test_sample_below_size_without_replacement(write):
    path = _file(write, 10)
    queries = _queries(load_dataset([f'{path}#4'])[0])
    assert len(queries) == 4 and len(set(queries)) == 4
    assert queries == _queries(load_dataset([f'{path}#4'])[0])  # seeded
    assert queries != _queries(load_dataset([f'{path}#4'], seed=1)[0])


def test_sample_above_size_repeats_then_remainder(write):
    path = _file(write, 10)
    counts = Counter(_queries(load_dataset([f'{path}#23'])[0]))
    assert sum(counts.values()) == 23 and len(counts) == 10
    assert sorted(counts.values()) == [2] * 7 + [3] * 3  # every row twice, 3 random rows a third time


def test_split_ratio(write):
    path = _file(write, 10)
    train, val = load_dataset([path], split_dataset_ratio=0.2)
    assert len(train) == 8 and len(val) == 2
    assert set(_queries(train)).isdisjoint(_queries(val))
    train, val = load_dataset([_file(write, 3)], split_dataset_ratio=0.01)
    assert len(train) == 2 and len(val) == 1  # at least one validation row


def test_folder_subsets(write, tmp_path):
    write('ds/a/x.jsonl', [{'query': 'a', 'response': 'r'}])
    write('ds/b/x.jsonl', [{'query': 'b', 'response': 'r'}])
    write('ds/c/x.jsonl', [{'query': 'c', 'response': 'r'}])
    train, _ = load_dataset([f'{tmp_path / "ds"}:a/c'])
    assert _queries(train) == ['a', 'c']
