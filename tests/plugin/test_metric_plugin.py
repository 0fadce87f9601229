"""A --metric registered from an --external_plugins file is what evaluation reports."""
import json

from swift.pipelines.sft import sft_main

PLUGIN = '''
from swift.plugin import metrics


def preprocess(logits, labels):
    return logits.argmax(-1)  # keep only what the metric needs


def compute(eval_prediction):
    preds, labels = eval_prediction.predictions, eval_prediction.label_ids
    mask = labels[:, 1:] != -100
    return {'next_token_acc': float((preds[:, :-1] == labels[:, 1:])[mask].mean()), 'labelled': float(mask.sum())}


metrics['next_token'] = (compute, preprocess)
'''


def test_metric_plugin_is_used_in_evaluation(tmp_path):
    plugin = tmp_path / 'my_metric.py'
    plugin.write_text(PLUGIN)
    data = tmp_path / 'd.jsonl'
    data.write_text('\n'.join(json.dumps({'query': f'q{i}', 'response': f'answer {i}'}) for i in range(10)))
    result = sft_main(['--model', 'swift/tiny-qwen2', '--dataset', str(data), '--external_plugins', str(plugin),
                       '--metric', 'next_token', '--split_dataset_ratio', '0.2', '--max_steps', '2',
                       '--eval_steps', '2', '--save_steps', '2', '--output_dir', str(tmp_path / 'out'),
                       '--report_to', 'none', '--add_version', 'false'])
    evals = [row for row in result['log_history'] if 'eval_loss' in row]
    assert evals and 0 <= evals[-1]['eval_next_token_acc'] <= 1 and evals[-1]['eval_labelled'] > 0
