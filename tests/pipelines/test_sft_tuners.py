"""Every tuner trains the tiny model through `swift sft`, and what it saved reloads and differs from the base."""

import pytest
import torch
from transformers import AutoModelForCausalLM

from swift.model.tiny import get_tiny_model_dir
from swift.pipelines.sft import sft_main

TUNERS = {
    'lora': [],
    'dora': ['--use_dora', 'true'],
    'rslora': ['--use_rslora', 'true', '--init_weights', 'gaussian'],
    'lora+': ['--lorap_lr_ratio', '16'],
    'pissa': ['--init_weights', 'pissa'],
    'olora': ['--init_weights', 'olora'],
    'adalora': ['--train_type', 'adalora'],
    'vera': ['--train_type', 'vera', '--vera_rank', '16'],
    'boft': ['--train_type', 'boft', '--boft_block_size', '4'],
    'fourierft': ['--train_type', 'fourierft', '--fourier_n_frequency', '64'],
    'llamapro': ['--train_type', 'llamapro', '--llamapro_num_new_blocks', '2'],
    'full': ['--train_type', 'full', '--freeze_parameters_ratio', '0.5', '--trainable_parameters', 'lm_head'],
}


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


@pytest.mark.parametrize('name', list(TUNERS))
def test_tuner_trains_saves_and_reloads(name, data, tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / name
    result = sft_main(['--model', 'swift/tiny-qwen2', '--dataset', data, '--max_steps', '3', '--learning_rate', '1e-2',
                       '--output_dir', str(out), '--add_version', 'false', '--report_to', 'none',
                       '--split_dataset_ratio', '0', '--save_strategy', 'no', '--plot_loss', 'false',
                       '--per_device_train_batch_size', '2'] + TUNERS[name])
    ckpt = result['last_model_checkpoint']
    ids = torch.tensor([[1, 20, 30, 40, 50]])
    base = AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-qwen2'))
    if (out / 'adapter_config.json').exists():
        from peft import PeftModel
        reloaded = PeftModel.from_pretrained(
            AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-qwen2')), ckpt)
    else:
        reloaded = AutoModelForCausalLM.from_pretrained(ckpt)
    assert not torch.allclose(_logits(base, ids), _logits(reloaded, ids), atol=1e-6), 'training changed nothing'
    assert (out / 'args.json').is_file() and (out / 'logging.jsonl').is_file()


def _sft(data, out, *extra):
    return sft_main(['--dataset', data, '--max_steps', '2', '--output_dir', str(out), '--add_version', 'false',
                     '--report_to', 'none', '--split_dataset_ratio', '0', '--save_strategy', 'no', '--plot_loss',
                     'false', *extra])


def test_continue_training_from_adapters_and_wrong_base(data, tmp_path):
    from safetensors.torch import load_file
    from swift.utils import SwiftError
    first = _sft(data, tmp_path / 'a', '--model', 'swift/tiny-qwen2')['last_model_checkpoint']
    # --model comes from nothing: training does not read args.json by default, so name it; the adapter continues.
    second = _sft(data, tmp_path / 'b', '--model', 'swift/tiny-qwen2', '--adapters', first)['last_model_checkpoint']
    w1 = load_file(f'{first}/adapter_model.safetensors')
    w2 = load_file(f'{second}/adapter_model.safetensors')
    assert w1.keys() == w2.keys() and any(not torch.equal(w1[k], w2[k]) for k in w1)
    with pytest.raises(SwiftError) as e:
        _sft(data, tmp_path / 'c', '--model', 'swift/tiny-llama', '--adapters', first)
    assert '\n' not in str(e.value)
