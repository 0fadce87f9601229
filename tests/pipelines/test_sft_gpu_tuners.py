"""GPU-only training paths: liger-kernel, unsloth, Q-GaLore, flash-attention packing. On CPU each refuses in one
line before loading weights (checked here); with a CUDA GPU and the package the `gpu` tests train for real."""
import importlib.util

import pytest
import torch

from swift.pipelines.sft import sft_main
from swift.utils import SwiftError

GPU_PATHS = {
    'liger': (['--use_liger', 'true'], 'liger_kernel', '--use_liger needs a CUDA GPU'),
    'unsloth': (['--tuner_backend', 'unsloth'], 'unsloth', 'unsloth needs a CUDA GPU'),
    'q_galore': (['--train_type', 'full', '--use_galore', 'true', '--galore_rank', '8', '--galore_quantization',
                  'true', '--galore_proj_quant', 'true'], 'q_galore_torch', 'Q-GaLore\\) needs a CUDA GPU'),
    'flash_attn_packing': (['--attn_impl', 'flash_attn', '--packing', 'true', '--max_length', '64'], 'flash_attn',
                           'flash_attn needs a CUDA GPU'),
}


def _sft(data, out, extra):
    return sft_main(['--model', 'swift/tiny-qwen2', '--dataset', data, '--max_steps', '2', '--output_dir', str(out),
                     '--add_version', 'false', '--report_to', 'none', '--split_dataset_ratio', '0', '--save_strategy',
                     'no', '--plot_loss', 'false'] + extra)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU refusal')
@pytest.mark.parametrize('name', list(GPU_PATHS))
def test_gpu_only_paths_refuse_on_cpu_in_one_line(name, data, tmp_path):
    argv, _, words = GPU_PATHS[name]
    with pytest.raises(SwiftError, match=words) as e:
        _sft(data, tmp_path, argv)
    assert '\n' not in str(e.value)
    assert not (tmp_path / 'args.json').exists()  # refused before training


@pytest.mark.gpu
@pytest.mark.parametrize('name', list(GPU_PATHS))
def test_gpu_paths_train(name, data, tmp_path):
    argv, package, _ = GPU_PATHS[name]
    if not torch.cuda.is_available():
        pytest.skip('needs a CUDA GPU')
    if importlib.util.find_spec(package) is None:
        pytest.skip(f'needs the {package} package (GPU environment)')
    result = _sft(data, tmp_path, argv + ['--torch_dtype', 'bfloat16', '--bf16', 'true'])
    losses = [h['loss'] for h in result['log_history'] if 'loss' in h]
    assert losses and all(loss == loss for loss in losses)
