"""The GPU-only engines: FSDP2 through accelerate and Ulysses sequence parallel (DeepSpeed ALST). Skipped on CPU,
where both refuse in one line (tests/distributed/test_config.py); record runs in docs/gpu-validation.md."""
import json
import os
import subprocess
import sys

import pytest
import torch

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')]
SWIFT = [sys.executable, '-m', 'swift.cli.main', 'sft']


def _sft(tmp_path, nproc, *flags):
    env = dict(os.environ, NPROC_PER_NODE=str(nproc), MASTER_PORT='29777')
    rows = [{'messages': [{'role': 'user', 'content': f'What is {a}+{a}?'},
                          {'role': 'assistant', 'content': str(2 * a)}]} for a in range(10, 26)]
    data = tmp_path / 'd.jsonl'
    data.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    proc = subprocess.run(SWIFT + ['--model', 'swift/tiny-qwen2', '--dataset', str(data), '--output_dir',
                                   str(tmp_path / 'out'), '--add_version', 'false', '--report_to', 'none',
                                   '--split_dataset_ratio', '0', '--save_strategy', 'no', '--max_steps', '2',
                                   '--torch_dtype', 'bfloat16', '--bf16', 'true', *flags],
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_fsdp2_trains_and_saves(tmp_path):
    proc = _sft(tmp_path, torch.cuda.device_count(), '--train_type', 'full', '--fsdp', 'full_shard auto_wrap')
    assert 'engine: FSDP (full_shard auto_wrap)' in proc.stdout
    assert os.path.isfile(tmp_path / 'out' / 'model.safetensors')


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason='sequence parallel needs 2 GPUs')
def test_ulysses_sequence_parallel(tmp_path):
    _sft(tmp_path, 2, '--sequence_parallel_size', '2', '--deepspeed', 'zero2', '--attn_impl', 'sdpa')
    assert os.path.isfile(tmp_path / 'out' / 'adapter_model.safetensors')
