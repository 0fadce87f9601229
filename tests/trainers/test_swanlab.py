"""`--report_to swanlab` with ms-swift's --swanlab_* arguments: a real run in SwanLab's offline mode (files only,
no network) records the project, workspace, experiment name and the losses; the flags without the reporter fail."""
import glob
import os

import pytest

from swift.pipelines.sft import sft_main
from swift.utils import ArgumentError

pytest.importorskip('swanlab')


def _argv(chat_jsonl, out, *extra):
    return ['--model', 'swift/tiny-qwen2', '--dataset', chat_jsonl, '--output_dir', str(out), '--add_version',
            'false', '--max_steps', '2', '--logging_steps', '1', '--save_strategy', 'no', '--split_dataset_ratio', '0',
            '--plot_loss', 'false', *extra]


def test_offline_run_records_project_experiment_and_losses(chat_jsonl, tmp_path, monkeypatch):
    for key in [k for k in os.environ if k.startswith('SWANLAB_')]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / 'out'
    sft_main(_argv(chat_jsonl, out, '--report_to', 'swanlab', '--swanlab_mode', 'offline', '--swanlab_project',
                   'proj-x', '--swanlab_workspace', 'team-y', '--swanlab_exp_name', 'exp-z'))
    runs = glob.glob(str(out / 'swanlog' / 'run-*'))
    assert len(runs) == 1, os.listdir(out)
    record = open(glob.glob(os.path.join(runs[0], '*.swanlab'))[0], 'rb').read()
    for name in (b'proj-x', b'team-y', b'exp-z'):
        assert name in record, name
    assert b'train/loss' in record  # the steps' logs, written when the run ended with the training
    monkeypatch.undo()


@pytest.mark.parametrize('flag, value', [('--swanlab_project', 'p'), ('--swanlab_mode', 'offline')])
def test_swanlab_flags_without_the_reporter_are_one_line(chat_jsonl, tmp_path, flag, value):
    with pytest.raises(ArgumentError, match=f'{flag} is read only when reporting to SwanLab: add --report_to '
                                            'swanlab'):
        sft_main(_argv(chat_jsonl, tmp_path, '--report_to', 'none', flag, value))
