"""--quant_method bnb on CPU (bitsandbytes 4/8-bit), and QLoRA checkpoints merging in full precision."""
import importlib.util
import json

import pytest
import torch
from transformers import AutoModelForCausalLM

from swift.arguments import parse_args
from swift.arguments.export_args import ExportArguments

bnb_missing = importlib.util.find_spec('bitsandbytes') is None


@pytest.mark.skipif(bnb_missing, reason='bitsandbytes is not installed')
def test_bnb_int4_export_reloads(ckpt, tmp_path):
    from swift.pipelines.export import export_main
    out = tmp_path / 'bnb'
    export_main(['--adapters', ckpt, '--quant_method', 'bnb', '--quant_bits', '4', '--output_dir', str(out)])
    with open(out / 'config.json', encoding='utf-8') as f:
        quant = json.load(f)['quantization_config']
    assert quant['quant_method'] == 'bitsandbytes' and quant['load_in_4bit'] is True
    with open(out / 'args.json', encoding='utf-8') as f:
        assert json.load(f)['quant_method'] is None  # the quantization lives in config.json
    model = AutoModelForCausalLM.from_pretrained(out)
    assert type(model.model.layers[0].mlp.down_proj).__name__ == 'Linear4bit'
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[5, 17, 300]])).logits
    assert torch.isfinite(logits).all()


def test_qlora_args_json_does_not_become_the_export_target(ckpt):
    with open(f'{ckpt}/args.json', encoding='utf-8') as f:
        saved = json.load(f)
    saved.update(quant_method='bnb', quant_bits=4)  # as a QLoRA run writes it
    with open(f'{ckpt}/args.json', 'w', encoding='utf-8') as f:
        json.dump(saved, f)
    args = parse_args(ExportArguments, ['--adapters', ckpt, '--merge_lora', 'true'])
    args.validate()
    args.resolve()
    assert args.model == 'swift/tiny-qwen2' and args.quant_method is None and args.quant_bits is None
    assert args.default_output_dir() == f'{ckpt}-merged'
