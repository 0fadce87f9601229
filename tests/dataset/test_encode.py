"""encode_dataset with the real template and the tiny tokenizer."""
import pytest
from datasets import Dataset

from swift.dataset import LazyEncodedDataset, encode_dataset
from swift.model.tiny import load_tiny_tokenizer
from swift.template import get_template
from swift.utils import DatasetError


@pytest.fixture(scope='module')
def template():
    return get_template('qwen2_5', load_tiny_tokenizer(), max_length=60)


def _rows(n_short, n_long):
    short = [{'messages': [{'role': 'user', 'content': f'hi {i}'}, {'role': 'assistant', 'content': 'hello'}],
              'solution': 'x'} for i in range(n_short)]
    long = [{'messages': [{'role': 'user', 'content': 'word ' * 200}, {'role': 'assistant', 'content': 'ok'}],
             'solution': 'y'}] * n_long
    return Dataset.from_list(short + long)


def test_encode_drops_too_long_rows_and_reports_stats(template):
    encoded, stats = encode_dataset(_rows(4, 2), template)
    assert len(encoded) == 4 and set(encoded.column_names) == {'input_ids', 'labels', 'length'}
    assert all(len(ids) == n <= 60 for ids, n in zip(encoded['input_ids'], encoded['length']))
    assert any(label != -100 for label in encoded[0]['labels'])
    assert (stats.rows_in, stats.rows_kept, stats.dropped) == (6, 4, {'longer than max_length': 2})
    summary = stats.length_summary()
    assert summary['min'] <= summary['p50'] <= summary['p90'] <= summary['max'] == max(encoded['length'])
    text = str(stats)
    assert text.startswith('encoded 4/6 rows, dropped 2 (longer than max_length: 2)') and 'p99' in text
    assert len(text.splitlines()) == 2


def test_encode_strict_raises_on_too_long(template):
    with pytest.raises(DatasetError, match='row 5'):
        encode_dataset(_rows(4, 1), template, strict=True)


def test_lazy_encoding_replaces_dropped_rows(template):
    lazy, stats = encode_dataset(_rows(3, 1), template, lazy=True)
    assert isinstance(lazy, LazyEncodedDataset) and len(lazy) == 4
    items = [lazy[i] for i in range(4)]
    assert all(item['length'] <= 60 for item in items)
    assert stats.dropped == {'longer than max_length': 1} and stats.rows_kept == 3


def test_streaming_encode_fills_stats_while_read(template):
    stream = _rows(2, 1).to_iterable_dataset()
    encoded, stats = encode_dataset(stream, template)
    assert len(list(encoded)) == 2
    assert (stats.rows_in, stats.rows_kept, stats.dropped) == (3, 2, {'longer than max_length': 1})


def test_rows_with_no_supervised_token_after_truncation_are_dropped():
    """Issue 11: `--truncation_strategy right` on a prompt longer than max_length must not train on nothing."""
    right = get_template('qwen2_5', load_tiny_tokenizer(), max_length=60, truncation_strategy='right')
    encoded, stats = encode_dataset(_rows(3, 2), right)
    assert len(encoded) == 3
    assert stats.dropped == {'no supervised token after truncation': 2}
    with pytest.raises(DatasetError, match='no supervised token'):
        encode_dataset(_rows(0, 2), right)
    with pytest.raises(DatasetError, match='no supervised token'):
        encode_dataset(_rows(1, 2), right, strict=True)
