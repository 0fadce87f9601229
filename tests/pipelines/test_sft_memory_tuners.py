"""Memory-saving optimizers and the non-peft tuners train the tiny model through `swift sft`, save, reload with
identical logits, and `swift infer` / `swift export --merge_lora` serve, merge or refuse what they saved."""
import json

import pytest
import torch
from transformers import AutoModelForCausalLM

from swift.model.tiny import get_tiny_model_dir
from swift.pipelines.export import export_main
from swift.pipelines.infer import infer_main
from swift.pipelines.sft import sft_main
from swift.tuners import load_hook_tuner
from swift.utils import SwiftError

FULL = ['--train_type', 'full']
# name -> extra argv; all save a full model (optimizers) or an adapter dir.
METHODS = {
    'galore': FULL + ['--use_galore', 'true', '--galore_rank', '8', '--galore_update_proj_gap', '2'],
    'galore_per_param': FULL + ['--use_galore', 'true', '--galore_rank', '8', '--galore_optim_per_parameter', 'true',
                                '--galore_with_embedding', 'true', '--galore_target_modules', 'q_proj', 'mlp'],
    'apollo': FULL + ['--use_apollo', 'true', '--apollo_rank', '8', '--apollo_proj', 'svd'],
    'apollo_layerwise': FULL + ['--use_apollo', 'true', '--apollo_rank', '4', '--apollo_layerwise', 'true'],
    'adam_mini': FULL + ['--use_adam_mini', 'true'],
    'badam': FULL + ['--use_badam', 'true', '--badam_switch_interval', '1'],
    'badam_ratio': FULL + ['--use_badam', 'true', '--badam_mode', 'ratio', '--badam_update_ratio', '0.1'],
    'lisa': FULL + ['--lisa_activated_layers', '1', '--lisa_step_interval', '1'],
    'longlora': ['--train_type', 'longlora', '--max_length', '64'],
    'lora_ga': ['--init_weights', 'lora-ga', '--lora_rank', '4', '--lora_ga_batch_size', '2', '--lora_ga_iters', '1'],
    'qlora': ['--quant_method', 'bnb', '--quant_bits', '4', '--bnb_4bit_compute_dtype', 'float32',
              '--bnb_4bit_quant_type', 'nf4'],
    'adapter': ['--train_type', 'adapter', '--adapter_length', '16', '--adapter_act', 'relu'],
    'reft': ['--train_type', 'reft', '--reft_layers', '1', '2', '--reft_rank', '2'],
    'direft': ['--train_type', 'reft', '--reft_intervention_type', 'DireftIntervention', '--reft_args',
               '{"dropout": 0.0, "act_fn": "relu"}'],
}
IDS = torch.tensor([[1, 20, 30, 40, 50, 60]])


def _sft(data, out, extra):
    torch.set_num_threads(1)
    return sft_main(['--model', 'swift/tiny-qwen2', '--dataset', data, '--max_steps', '3', '--learning_rate', '1e-2',
                     '--output_dir', str(out), '--add_version', 'false', '--report_to', 'none',
                     '--split_dataset_ratio', '0', '--save_strategy', 'no', '--plot_loss', 'false',
                     '--per_device_train_batch_size', '2'] + extra)


def _base():
    return AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-qwen2'), dtype=torch.float32).eval()


def _logits(model):
    with torch.no_grad():
        return model(input_ids=IDS).logits


def _reload(ckpt):
    config = json.loads((ckpt / 'adapter_config.json').read_text()) if (ckpt / 'adapter_config.json').exists() \
        else None
    if config is None:
        return AutoModelForCausalLM.from_pretrained(ckpt).eval()
    if config['peft_type'].startswith('SWIFT_'):
        return load_hook_tuner(_base(), str(ckpt)).eval()
    from peft import PeftModel
    return PeftModel.from_pretrained(_base(), str(ckpt)).eval()


@pytest.mark.parametrize('name', list(METHODS))
def test_method_trains_saves_and_reloads(name, data, tmp_path):
    result = _sft(data, tmp_path / name, METHODS[name])
    ckpt = tmp_path / name
    assert result['last_model_checkpoint'] == str(ckpt)
    losses = [h['loss'] for h in result['log_history'] if 'loss' in h]
    assert losses and all(loss == loss for loss in losses)  # finite (not NaN)
    if name == 'qlora':  # the 4-bit base is what the adapter fits; the float base differs by quantisation
        assert json.loads((ckpt / 'args.json').read_text())['quant_bits'] == 4
        export_main(['--adapters', str(ckpt), '--merge_lora', 'true', '--output_dir', str(tmp_path / 'merged')])
        assert 'quantization_config' not in json.loads((tmp_path / 'merged' / 'config.json').read_text())
        return
    first, second = _logits(_reload(ckpt)), _logits(_reload(ckpt))
    assert torch.equal(first, second), 'reloading is not deterministic'
    assert not torch.allclose(_logits(_base()), first, atol=1e-6), 'training changed nothing'


@pytest.mark.parametrize('name', ['reft', 'adapter'])
def test_hook_tuners_serve_but_do_not_merge(name, data, tmp_path):
    ckpt = str(tmp_path / name)
    _sft(data, ckpt, METHODS[name])
    qa = tmp_path / 'qa.jsonl'
    qa.write_text(json.dumps({'messages': [{'role': 'user', 'content': 'question 1?'}]}))
    result = infer_main(['--adapters', ckpt, '--val_dataset', str(qa), '--max_new_tokens', '4', '--temperature', '0',
                         '--result_path', str(tmp_path / 'r.jsonl')])
    assert result is not None and (tmp_path / 'r.jsonl').read_text().strip()
    with pytest.raises(SwiftError, match='cannot be merged') as e:
        export_main(['--adapters', ckpt, '--merge_lora', 'true', '--output_dir', str(tmp_path / 'm')])
    assert '\n' not in str(e.value)


@pytest.mark.parametrize('name', ['longlora', 'lora_ga'])
def test_merge_equals_adapter(name, data, tmp_path):
    ckpt = tmp_path / name
    _sft(data, ckpt, METHODS[name])
    merged = tmp_path / 'merged'
    export_main(['--adapters', str(ckpt), '--merge_lora', 'true', '--output_dir', str(merged)])
    merged_logits = _logits(AutoModelForCausalLM.from_pretrained(merged).eval())
    assert torch.allclose(merged_logits, _logits(_reload(ckpt)), atol=1e-4)


def test_reft_continues_from_its_directory(data, tmp_path):
    from safetensors.torch import load_file
    first = tmp_path / 'a'
    _sft(data, first, METHODS['reft'])
    _sft(data, tmp_path / 'b', METHODS['reft'] + ['--adapters', str(first)])
    w1, w2 = load_file(first / 'adapter_model.safetensors'), load_file(tmp_path / 'b' / 'adapter_model.safetensors')
    assert w1.keys() == w2.keys() and any(not torch.equal(w1[k], w2[k]) for k in w1)


@pytest.mark.parametrize('extra', [['--train_type', 'full', '--use_galore', 'true', '--galore_rank', '8',
                                    '--ref_model', 'swift/tiny-qwen2'],
                                   ['--train_type', 'reft', '--reft_layers', '1']])
def test_rlhf_uses_the_optimizers_and_hook_tuners(extra, tmp_path):
    from swift.pipelines.rlhf import rlhf_main
    data = tmp_path / 'pref.jsonl'
    rows = [{'messages': [{'role': 'user', 'content': f'q{i}?'}, {'role': 'assistant', 'content': 'good.'}],
             'rejected_response': 'bad.'} for i in range(4)]
    data.write_text('\n'.join(json.dumps(r) for r in rows))
    out = tmp_path / 'dpo'
    result = rlhf_main(['--rlhf_type', 'dpo', '--model', 'swift/tiny-qwen2', '--dataset', str(data), '--output_dir',
                        str(out), '--add_version', 'false', '--max_steps', '2', '--report_to', 'none',
                        '--split_dataset_ratio', '0', '--save_strategy', 'no', '--plot_loss', 'false'] + extra)
    trainer = result['trainer']
    if '--use_galore' in extra:
        assert type(trainer.optimizer.optimizer).__module__.startswith('galore_torch')
    else:
        assert json.loads((out / 'adapter_config.json').read_text())['peft_type'] == 'SWIFT_REFT'
        assert not (out / 'model.safetensors').exists()
