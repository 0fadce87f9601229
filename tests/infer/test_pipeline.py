"""`swift infer`: dataset mode with metrics, result path defaults, args.json round trip, merge_lora, interactive."""
import json
import os
import subprocess
import sys

import pytest

from swift.pipelines.infer import compute_metric, infer_main

QA = [('What is 2 plus 2?', 'Four.'), ('Name a color.', 'Blue.'), ('Capital of France?', 'Paris.')]


@pytest.fixture(scope='module')
def qa_jsonl(make_chat_jsonl):
    return make_chat_jsonl(QA, 'qa.jsonl')


def read_jsonl(path):
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f]


def test_dataset_mode_writes_results_and_rouge(qa_jsonl, tmp_path, capsys):
    out = tmp_path / 'res.jsonl'
    result = infer_main(['--model', 'swift/tiny-qwen2', '--val_dataset', qa_jsonl, '--metric', 'rouge',
                         '--max_new_tokens', '6', '--temperature', '0', '--max_batch_size', '4',
                         '--val_dataset_sample', '2', '--result_path', str(out)])
    rows = read_jsonl(out)
    assert len(rows) == 2 and result['num_rows'] == 2
    assert all(r['labels'] in dict(QA).values() and isinstance(r['response'], str) for r in rows)
    assert rows[0]['messages'][-1]['role'] == 'user'
    assert set(result['metrics']) == {'rouge-l', 'bleu-4'}
    assert str(out) in capsys.readouterr().out


def test_adapter_checkpoint_alone(qa_jsonl, lora_dir):
    """`--adapters ckpt` reads the base model and system from args.json; results go next to the checkpoint."""
    result = infer_main(['--adapters', lora_dir, '--val_dataset', qa_jsonl, '--metric', 'acc',
                         '--max_new_tokens', '4', '--temperature', '0'])
    assert result['result_path'].startswith(os.path.join(lora_dir, 'infer_result'))
    assert 0 <= result['metrics']['acc'] <= 1
    merged = infer_main(['--ckpt_dir', lora_dir, '--merge_lora', 'true', '--val_dataset', qa_jsonl,
                         '--max_new_tokens', '4', '--temperature', '0'])
    assert [r['response'] for r in read_jsonl(merged['result_path'])] == \
        [r['response'] for r in read_jsonl(result['result_path'])]


def test_compute_metric():
    assert compute_metric('acc', ['Four. ', 'x'], ['Four.', 'Blue.']) == {'acc': 0.5}
    assert compute_metric('rouge', ['a b c'], ['a b c'])['rouge-l'] == pytest.approx(1.)


def test_interactive_chat_via_stdin():
    code = 'from swift.pipelines.infer import infer_main; infer_main()'
    stdin = 'hello\nclear\nfirst line \\\nsecond line\nreset-system\nBe brief.\nhi again\nexit\n'
    proc = subprocess.run([sys.executable, '-c', code, '--model', 'swift/tiny-qwen2', '--max_new_tokens', '5',
                           '--temperature', '0'], input=stdin, capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert proc.returncode == 0, proc.stderr
    assert '[history cleared]' in proc.stdout
    assert proc.stdout.count("<<< ") == 6  # hello, clear, the two-line message, reset-system, hi again, exit
