"""Bad input fails early with one line that says what to do."""
import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from swift.model.tiny import get_tiny_model_dir
from swift.pipelines.export import export_main
from swift.utils import ArgumentError, SwiftError


def _one_line(info):
    assert '\n' not in str(info.value)
    return str(info.value)


def test_full_checkpoint_has_nothing_to_merge():
    full = get_tiny_model_dir('swift/tiny-qwen2')
    with pytest.raises(ArgumentError, match='nothing to merge: .* is a full model') as info:
        export_main(['--model', 'swift/tiny-qwen2', '--adapters', full, '--merge_lora', 'true'])
    assert f'--model {full}' in _one_line(info)


def test_merge_lora_without_adapters():
    with pytest.raises(ArgumentError, match='needs --adapters') as info:
        export_main(['--model', 'swift/tiny-qwen2', '--merge_lora', 'true'])
    _one_line(info)


def test_adapter_of_another_base(tmp_path):
    llama = AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-llama'), dtype=torch.float32)
    get_peft_model(llama, LoraConfig(r=2, target_modules=['q_proj'])).save_pretrained(tmp_path / 'llama-lora')
    with pytest.raises(ArgumentError, match='trained on another base model') as info:
        export_main(['--model', 'swift/tiny-qwen2', '--adapters', str(tmp_path / 'llama-lora'),
                     '--merge_lora', 'true', '--output_dir', str(tmp_path / 'out')])
    assert 'model_type llama vs qwen2' in _one_line(info)


def test_unknown_quant_method():
    with pytest.raises(ArgumentError, match="invalid choice: 'int4'") as info:
        export_main(['--model', 'swift/tiny-qwen2', '--quant_method', 'int4', '--quant_bits', '4'])
    _one_line(info)


def test_missing_quant_extra_names_the_package(chat_jsonl, tmp_path):
    import importlib.util
    if importlib.util.find_spec('awq') is not None:
        pytest.skip('autoawq is installed')
    with pytest.raises(ArgumentError, match='pip install autoawq') as info:
        export_main(['--model', 'swift/tiny-qwen2', '--quant_method', 'awq', '--quant_bits', '4',
                     '--dataset', chat_jsonl, '--output_dir', str(tmp_path / 'awq')])
    _one_line(info)
    assert not (tmp_path / 'awq').exists()


@pytest.mark.parametrize('argv, words', [
    (['--quant_method', 'gptq', '--quant_bits', '4'], 'calibrates on data: pass --dataset'),
    (['--quant_method', 'bnb', '--quant_bits', '3'], 'bnb supports --quant_bits 4 or 8'),
    (['--push_to_hub', 'true'], 'needs --hub_model_id'),
    ([], 'Nothing to export'),
    (['--to_gguf', 'true', '--export_legacy_format', 'true'], 'safetensors only'),
])
def test_incompatible_arguments(argv, words):
    with pytest.raises(SwiftError, match=words) as info:
        export_main(['--model', 'swift/tiny-qwen2'] + argv)
    _one_line(info)
