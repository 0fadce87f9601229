"""Result tables: a metric that could not run offline is 'unavailable', never a crash; the comparison table."""
from swift.eval import comparison, format_comparison, format_table
from swift.eval.native import _score, report_rows


def test_unavailable_metric_is_reported():
    assert _score(float('nan')) is None and _score('x') is None and _score(0.5) == 0.5
    table = format_table([{'dataset': 'general_qa', 'subset': 'default', 'metric': 'bleu', 'score': None, 'n': 3},
                          {'dataset': 'general_qa', 'subset': 'default', 'metric': 'rouge', 'score': 0.25, 'n': 3}])
    lines = table.splitlines()
    assert lines[0].split() == ['dataset', 'subset', 'metric', 'score', 'n']
    assert 'unavailable' in lines[2] and '0.2500' in lines[3]
    (row,) = report_rows('gsm8k', None)
    assert row['score'] is None and row['note'] == 'no report'


def test_comparison_has_a_column_per_checkpoint():
    results = {'ckpt-1': [{'dataset': 'd', 'subset': 's', 'metric': 'acc', 'score': 0.1, 'n': 2}],
               'ckpt-2': [{'dataset': 'd', 'subset': 's', 'metric': 'acc', 'score': None, 'n': 2}]}
    (row,) = comparison(results)
    assert row['ckpt-1'] == 0.1 and row['ckpt-2'] is None
    text = format_comparison([row], list(results))
    assert 'ckpt-2' in text.splitlines()[0] and 'unavailable' in text.splitlines()[2]


def test_dataset_entries_vs_benchmarks(tmp_path):
    from swift.eval import is_dataset_file
    data = tmp_path / 'mine.jsonl'
    data.write_text('{"query": "q", "response": "r"}\n')
    assert is_dataset_file(str(data)) and is_dataset_file(f'{data}#5') and is_dataset_file('swift/self-cognition#10')
    assert not is_dataset_file('gsm8k') and not is_dataset_file('general_qa')
