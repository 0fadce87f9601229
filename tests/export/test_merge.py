"""`swift export --merge_lora true` / `swift merge-lora`: merged logits equal base + adapter; the directory is a
self-describing model (shards, tokenizer, chat template, generation config, args.json)."""
import json
import os

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from swift.model.tiny import get_tiny_model_dir
from swift.pipelines.export import export_main, merge_lora_main
from swift.utils import ArgumentError

IDS = torch.tensor([[5, 17, 300, 42, 7, 99, 1000, 3]])


@torch.no_grad()
def _logits(model):
    return model.eval()(input_ids=IDS).logits


def _base_plus_adapter(ckpt):
    base = AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-qwen2'), dtype=torch.float32)
    return PeftModel.from_pretrained(base, ckpt)


def test_merged_logits_equal_base_plus_adapter(ckpt, tmp_path):
    out = tmp_path / 'merged'
    result = export_main(['--adapters', ckpt, '--merge_lora', 'true', '--output_dir', str(out),
                          '--max_shard_size', '1MB'])
    assert result['output_dir'] == str(out)
    files = os.listdir(out)
    assert 'model.safetensors.index.json' in files and sum(f.endswith('.safetensors') for f in files) > 1
    assert {'tokenizer.json', 'chat_template.jinja', 'generation_config.json', 'args.json'} <= set(files)
    assert not any(f.startswith('adapter_') for f in files)
    merged = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    expected = _logits(_base_plus_adapter(ckpt))
    base = _logits(AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-qwen2')))
    assert (expected - base).abs().max() > 1e-2  # the adapter changed the model
    torch.testing.assert_close(_logits(merged), expected, atol=1e-4, rtol=0)


def test_merged_dir_carries_template_and_model_info(ckpt, tmp_path):
    out = tmp_path / 'merged'
    export_main(['--adapters', ckpt, '--merge_lora', 'true', '--output_dir', str(out)])
    with open(out / 'args.json', encoding='utf-8') as f:
        saved = json.load(f)
    assert saved['model'] == 'swift/tiny-qwen2' and saved['model_type'] == 'tiny_qwen2'
    assert saved['template'] == 'qwen2_5' and saved['adapters'] == [] and saved['merged_adapters'] == [ckpt]
    assert saved['max_length'] is None  # the training run's, not the export's calibration length
    with open(os.path.join(ckpt, 'chat_template.jinja'), encoding='utf-8') as f:
        assert AutoTokenizer.from_pretrained(out).chat_template == f.read()


def test_merge_lora_default_output_dir_and_exist_ok(ckpt):
    result = merge_lora_main(['--adapters', ckpt])
    assert result['output_dir'] == f'{ckpt}-merged' and os.path.isfile(f'{ckpt}-merged/config.json')
    with pytest.raises(ArgumentError, match='already exists: pass --exist_ok true') as info:
        merge_lora_main(['--adapters', ckpt])
    assert '\n' not in str(info.value)
    assert merge_lora_main(['--adapters', ckpt, '--exist_ok', 'true'])['output_dir'] == f'{ckpt}-merged'


def test_llama_factory_names_map_to_ours():
    from swift.arguments.export_args import ExportArguments
    from swift.arguments import parse_args
    args = parse_args(ExportArguments, ['--model', 'm', '--merge_lora', 'true', '--export_size', '2',
                                        '--export_device', 'cpu'])
    assert args.max_shard_size == '2GB' and args.device_map == 'cpu'


@pytest.mark.parametrize('config', ['lora', 'loha', 'ia3'])
def test_other_peft_tuners_merge(tmp_path, config):
    from peft import IA3Config, LoHaConfig, LoraConfig, get_peft_model
    configs = {'lora': LoraConfig(r=4, target_modules=['q_proj', 'down_proj'], init_lora_weights=False),
               'loha': LoHaConfig(r=4, target_modules=['q_proj', 'v_proj'], init_weights=False),
               'ia3': IA3Config(target_modules=['k_proj', 'down_proj'], feedforward_modules=['down_proj'],
                                init_ia3_weights=False)}
    base = AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-qwen2'), dtype=torch.float32)
    torch.manual_seed(0)
    peft_model = get_peft_model(base, configs[config])
    peft_model.save_pretrained(tmp_path / 'adapter')
    expected = _logits(peft_model)
    export_main(['--model', 'swift/tiny-qwen2', '--adapters', str(tmp_path / 'adapter'), '--merge_lora', 'true',
                 '--output_dir', str(tmp_path / 'merged')])
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / 'merged', dtype=torch.float32)
    torch.testing.assert_close(_logits(merged), expected, atol=1e-4, rtol=0)
