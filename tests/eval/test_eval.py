"""`swift eval` end to end on the tiny model: our in-process server, evalscope's local sets, our own formats."""
import json
import os

import pytest

from swift.pipelines.eval import eval_main

pytest.importorskip('evalscope')
COMMON = ['--max_new_tokens', '4', '--max_batch_size', '4']


def _check_report(result, datasets):
    report = json.load(open(result['report']))
    rows = report['results']
    assert {r['dataset'] for r in rows} == set(datasets)
    for r in rows:
        assert r['score'] is None or 0 <= r['score'] <= 1, r
    return rows


def test_local_sets_and_own_format(tmp_path, eval_sets, capsys):
    result = eval_main(['--model', 'swift/tiny-qwen2', '--eval_dataset', 'general_qa', 'general_mcq',
                        eval_sets['own'], '--eval_dataset_args', eval_sets['dataset_args'],
                        '--eval_output_dir', str(tmp_path / 'out'), *COMMON])
    rows = _check_report(result, ['general_qa', 'general_mcq', 'own'])
    assert any(r['dataset'] == 'general_mcq' and r['metric'] == 'accuracy' and r['n'] == 2 for r in rows)
    own = [r for r in rows if r['dataset'] == 'own']
    assert {r['metric'] for r in own} == {'rouge-l', 'bleu-4'} and all(r['n'] == 3 for r in own)
    out = result['output_dir']
    assert out.startswith(str(tmp_path / 'out')) and os.path.isfile(os.path.join(out, 'report.json'))
    predictions = [json.loads(line) for line in open(os.path.join(out, 'predictions', 'own.jsonl'))]
    assert len(predictions) == 3 and predictions[0]['messages'][0]['role'] == 'system'
    assert predictions[1]['reference'] == '4' and 'rouge-l' in predictions[1]['scores']
    assert os.listdir(os.path.join(out, 'evalscope', 'predictions'))  # evalscope's per-sample predictions
    printed = capsys.readouterr().out
    assert 'dataset' in printed and 'general_mcq' in printed and result['report'] in printed


PLUGIN = '''
from swift.plugin import metrics


def starts_like(predictions, references):
    return {'first_char': [float(p[:1] == r[:1]) for p, r in zip(predictions, references)]}


metrics['starts_like'] = starts_like
'''


def test_metric_plugin_and_checkpoints(tmp_path, eval_sets):
    """A custom --metric from --external_plugins; two checkpoints -> comparison table and plot."""
    from tests.deploy.deploy_helpers import make_lora
    plugin = tmp_path / 'metric.py'
    plugin.write_text(PLUGIN)
    runs = tmp_path / 'run'
    for step in (2, 10):
        make_lora(str(runs / f'checkpoint-{step}'))
    result = eval_main(['--model', 'swift/tiny-qwen2', '--eval_dataset', eval_sets['own'], '--metric', 'starts_like',
                        '--external_plugins', str(plugin), '--eval_checkpoints', str(runs), '--eval_limit', '2',
                        '--eval_output_dir', str(tmp_path / 'out'), *COMMON])
    labels = list(result['results'])
    assert [os.path.basename(p) for p in labels] == ['checkpoint-2', 'checkpoint-10']
    report = json.load(open(result['report']))
    assert report['checkpoints'] == labels
    (row,) = report['results']
    assert row['metric'] == 'first_char' and all(0 <= row[lb] <= 1 for lb in labels)
    assert os.path.getsize(result['plot']) > 1000
    # the checkpoints' adapters are what answered: the base model answers differently
    base = eval_main(['--model', 'swift/tiny-qwen2', '--eval_dataset', eval_sets['own'], '--eval_limit', '2',
                      '--eval_output_dir', str(tmp_path / 'base'), *COMMON])
    responses = [[json.loads(line)['response'] for line in open(os.path.join(folder, 'predictions', 'own.jsonl'))]
                 for folder in (os.path.join(result['output_dir'], 'checkpoint-2'), base['output_dir'])]
    assert responses[0] != responses[1]
