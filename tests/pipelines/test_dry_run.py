import json
import subprocess
import sys

import pytest

from swift.pipelines.sft import pt_main, sft_main
from swift.utils import SwiftError

SELF_COG = ['--model', 'swift/tiny-qwen2', '--dataset', 'swift/self-cognition#50', '--model_name', '小黄',
            'Xiao Huang', '--model_author', '魔搭', 'ModelScope']


def test_dry_run_prints_example_and_stats(capsys):
    assert sft_main(SELF_COG + ['--dry_run', 'true']) is None
    out = capsys.readouterr().out
    assert '[dry run] one encoded training example' in out and 'dataset statistics' in out
    assert 'Xiao Huang' in out or '小黄' in out  # names substituted before encoding
    assert '[[' in out  # loss-carrying tokens are marked when stdout is not a tty


def test_dry_run_cli_as_a_user_runs_it():
    proc = subprocess.run([sys.executable, '-m', 'swift.cli.main', 'sft'] + SELF_COG + ['--dry_run', 'true'],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'dataset statistics' in proc.stdout and 'kept' in (proc.stdout + proc.stderr)


def test_dry_run_reports_broken_line(tmp_path, capsys, caplog):
    data = tmp_path / 'data.jsonl'
    rows = [json.dumps({'query': f'q{i}', 'response': f'r{i}'}) for i in range(5)]
    rows.insert(2, '{"query": "broken" ')
    data.write_text('\n'.join(rows) + '\n')
    sft_main(['--model', 'swift/tiny-qwen2', '--dataset', str(data), '--dry_run', 'true'])
    with pytest.raises(SwiftError, match=r'data.jsonl.*3'):
        sft_main(['--model', 'swift/tiny-qwen2', '--dataset', str(data), '--dry_run', 'true', '--strict', 'true'])


def test_pt_dry_run_supervises_all_tokens(tmp_path, capsys):
    data = tmp_path / 'text.jsonl'
    data.write_text('\n'.join(json.dumps({'text': f'plain text number {i} for pretraining.'}) for i in range(4)))
    pt_main(['--model', 'swift/tiny-qwen2', '--dataset', str(data), '--dry_run', 'true'])
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith('[dry run] input_ids'))
    total, with_loss = [int(s.split()[0]) for s in line.split(': ')[1].split(', ')]
    assert with_loss >= total - 1


def test_rlhf_dry_run_shows_pair(tmp_path, capsys):
    from swift.pipelines.rlhf import rlhf_main
    data = tmp_path / 'pref.jsonl'
    data.write_text('\n'.join(json.dumps({'messages': [{'role': 'user', 'content': f'q{i}'},
                                                       {'role': 'assistant', 'content': f'good {i}'}],
                                          'rejected_response': f'bad {i}'}) for i in range(4)))
    assert rlhf_main(['--rlhf_type', 'dpo', '--model', 'swift/tiny-qwen2', '--dataset', str(data),
                      '--dry_run', 'true']) is None
    out = capsys.readouterr().out
    assert 'good' in out and 'bad' in out and 'dataset statistics' in out
