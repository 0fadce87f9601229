"""A `swift sft` process killed with SIGKILL after a checkpoint resumes bit-identically to the uninterrupted run
(default flags: data_seed follows seed), and a kill never leaves a `checkpoint-N` that is incomplete."""
import os
import signal
import subprocess
import sys
import time

from swift.pipelines.sft import sft_main
from ._utils import base_argv

STEPS = 60


def _argv(data, out, *extra):
    return base_argv(data, out, '--max_steps', str(STEPS), '--save_strategy', 'steps', '--save_steps', '5',
                     '--per_device_train_batch_size', '2', '--plot_loss', 'false', '--logging_steps', '5', *extra)


def _complete_checkpoints(out):
    # transformers writes trainer_state.json last: its presence marks a complete checkpoint.
    names = [n for n in os.listdir(out) if n.startswith('checkpoint-')] if os.path.isdir(out) else []
    done = [n for n in names if os.path.isfile(os.path.join(out, n, 'trainer_state.json'))]
    return sorted(done, key=lambda n: int(n.split('-')[1]))


def _losses_after(result, step):
    return {r['step']: r['loss'] for r in result['log_history'] if r['step'] > step and 'loss' in r}


def test_sigkill_then_resume_matches_uninterrupted(tmp_path, chat_jsonl):
    killed_out = tmp_path / 'killed'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.Popen([sys.executable, '-m', 'swift.cli.main', 'sft', *_argv(chat_jsonl, killed_out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 240
    while not _complete_checkpoints(killed_out) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    ckpts = _complete_checkpoints(killed_out)
    assert ckpts and ckpts[-1] != f'checkpoint-{STEPS}', 'the run finished before it could be killed'
    visible = [n for n in os.listdir(killed_out) if n.startswith('checkpoint-')]
    assert sorted(visible) == sorted(ckpts), 'a checkpoint-N without trainer_state.json is visible'

    resumed = sft_main(_argv(chat_jsonl, tmp_path / 'resumed', '--resume_from_checkpoint',
                             str(killed_out / ckpts[-1])))
    uninterrupted = sft_main(_argv(chat_jsonl, tmp_path / 'full'))
    step = int(ckpts[-1].split('-')[1])
    after = _losses_after(uninterrupted, step)
    assert after and _losses_after(resumed, step) == after  # bit-identical continuation
