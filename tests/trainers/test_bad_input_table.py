"""Issue 11 item 6 (and 2, 3): bad input of a new user ends in one line naming the argument or file, a non-zero
exit and no Traceback, before weights load where it can be checked then."""
import json
import os
import socket
import subprocess
import sys

import pytest

from ._utils import base_argv


def _lora(path, base):
    import torch
    from peft import LoraConfig, get_peft_model
    from swift.model import get_model_tokenizer
    torch.manual_seed(0)
    model, _ = get_model_tokenizer(base, 'float32')
    get_peft_model(model, LoraConfig(r=4, target_modules=['q_proj', 'v_proj'])).save_pretrained(path)
    return str(path)


@pytest.fixture(scope='module')
def files(tmp_path_factory, chat_jsonl):
    root = tmp_path_factory.mktemp('bad')
    (root / 'a_file').write_text('x')
    run = root / 'run'
    (run / 'checkpoint-2').mkdir(parents=True)
    (run / 'checkpoint-2' / 'trainer_state.json').write_text('{}')
    (run / 'checkpoint-4').mkdir()  # a save killed midway
    (root / 'not_a_ckpt').mkdir()
    good = _lora(root / 'lora', 'swift/tiny-qwen2')
    llama = _lora(root / 'llama_lora', 'swift/tiny-llama')
    corrupt = _lora(root / 'corrupt_cfg', 'swift/tiny-qwen2')
    with open(os.path.join(corrupt, 'adapter_config.json'), 'w') as f:
        f.write('{"peft_type": "LORA", ')
    truncated = _lora(root / 'truncated', 'swift/tiny-qwen2')
    weights = os.path.join(truncated, 'adapter_model.safetensors')
    with open(weights, 'rb+') as f:
        f.truncate(os.path.getsize(weights) // 2)
    locked = root / 'locked'  # held by this (live) pytest process
    locked.mkdir()
    (locked / '.swift-run.lock').write_text(f'{os.getpid()} {socket.gethostname()}')
    half_export = root / 'half_export'
    half_export.mkdir()
    (half_export / 'config.json').write_text(json.dumps({'model_type': 'qwen2'}))
    return {'root': str(root), 'data': chat_jsonl, 'good': good, 'llama': llama, 'corrupt': corrupt,
            'truncated': truncated, 'half_export': str(half_export)}


def _sft(f, *extra):
    return ['sft', *base_argv(f['data'], os.path.join(f['root'], 'out'), '--max_steps', '1'), *extra]


def _infer(f, *extra):
    return ['infer', '--model', 'swift/tiny-qwen2', '--max_new_tokens', '2', '--val_dataset', f['data'], *extra]


CASES = {
    'output_dir is a file': (lambda f: _sft(f, '--output_dir', os.path.join(f['root'], 'a_file')), '--output_dir'),
    'resume from a non-checkpoint': (
        lambda f: _sft(f, '--resume_from_checkpoint', os.path.join(f['root'], 'not_a_ckpt')), 'trainer_state.json'),
    'resume from an incomplete checkpoint': (
        lambda f: _sft(f, '--resume_from_checkpoint', os.path.join(f['root'], 'run', 'checkpoint-4')),
        'checkpoint-2'),
    'a second live run into one output_dir': (
        lambda f: _sft(f, '--output_dir', os.path.join(f['root'], 'locked')), 'in use by another live run'),
    'unknown lr_scheduler_type': (lambda f: _sft(f, '--lr_scheduler_type', 'foo'), '--lr_scheduler_type'),
    'unknown optim': (lambda f: _sft(f, '--optim', 'adamw_foo'), '--optim'),
    'load_best_model_at_end with mismatched strategies': (
        lambda f: _sft(f, '--load_best_model_at_end', 'true', '--save_strategy', 'steps', '--eval_strategy', 'no'),
        '--load_best_model_at_end'),
    'corrupt adapter_config.json': (lambda f: _infer(f, '--adapters', f['corrupt']), 'adapter_config.json'),
    'truncated adapter weights': (lambda f: _infer(f, '--adapters', f['truncated']), 'adapter_model.safetensors'),
    'missing adapter dir': (lambda f: _infer(f, '--adapters', os.path.join(f['root'], 'nope')), 'nope'),
    'adapter of another base model': (lambda f: _infer(f, '--adapters', f['llama']), 'llama_lora'),
    'model dir of an interrupted export': (
        lambda f: ['infer', '--model', f['half_export'], '--val_dataset', f['data']], 'half_export'),
}


@pytest.mark.parametrize('case', list(CASES))
def test_bad_input_is_one_line(files, case):
    argv, must_name = CASES[case]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, '-m', 'swift.cli.main', *argv(files)], capture_output=True, text=True,
                          env=env, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert 'Traceback' not in out, out[-3000:]
    errors = [line for line in out.splitlines() if 'error' in line.lower() and must_name in line]
    assert errors, out[-2000:]
