"""--create_new_adapter: the previous --adapters are merged into the base and a fresh LoRA is trained on top;
`swift export --merge_lora` and `swift infer` merge the base adapters again from the new adapter's args.json."""
import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from swift.pipelines.export import export_main
from swift.pipelines.sft import sft_main
from swift.utils import ArgumentError

IDS = torch.tensor([[5, 17, 42, 99, 7, 3]])


def _sft(data, out, *extra):
    return sft_main(['--model', 'swift/tiny-qwen2', '--dataset', data, '--output_dir', str(out), '--add_version',
                     'false', '--report_to', 'none', '--split_dataset_ratio', '0', '--save_strategy', 'no',
                     '--max_steps', '2', '--learning_rate', '5e-2', '--plot_loss', 'false', '--lora_rank', '4',
                     '--gradient_checkpointing', 'false', *extra])


@torch.no_grad()
def _logits(model):
    return model.eval()(input_ids=IDS).logits


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp('d') / 'chat.jsonl'
    rows = [{'messages': [{'role': 'user', 'content': f'q {i}?'}, {'role': 'assistant', 'content': f'a {i}.'}]}
            for i in range(4)]
    path.write_text('\n'.join(json.dumps(r) for r in rows))
    return str(path)


def test_fresh_adapter_on_merged_base(tmp_path, data):
    from swift.arguments import InferArguments, parse_args
    from swift.pipelines.infer import build_engine
    first = _sft(data, tmp_path / 'a', '--lora_rank', '8')['last_model_checkpoint']
    result = _sft(data, tmp_path / 'b', '--adapters', first, '--create_new_adapter', 'true')
    second = result['last_model_checkpoint']
    with open(f'{second}/adapter_config.json') as f:
        assert json.load(f)['r'] == 4  # a new adapter with this run's rank, not a continuation of the rank-8 one
    trained = _logits(result['trainer'].model)
    merged_dir = tmp_path / 'merged'
    export_main(['--adapters', second, '--merge_lora', 'true', '--output_dir', str(merged_dir)])
    merged = AutoModelForCausalLM.from_pretrained(merged_dir)
    torch.testing.assert_close(_logits(merged), trained, atol=1e-4, rtol=0)  # base + first + second
    only_first = tmp_path / 'first'
    export_main(['--adapters', first, '--merge_lora', 'true', '--output_dir', str(only_first)])
    assert (_logits(AutoModelForCausalLM.from_pretrained(only_first)) - trained).abs().max() > 1e-3
    args = parse_args(InferArguments, ['--adapters', second])
    args.validate()
    args.resolve()
    torch.testing.assert_close(_logits(build_engine(args).model), trained, atol=1e-5, rtol=0)
    assert set(load_file(f'{second}/adapter_model.safetensors')) == set(load_file(
        f'{first}/adapter_model.safetensors'))  # same targets, stored as its own LoRA


def test_create_new_adapter_needs_adapters():
    from swift.arguments import SftArguments, parse_args
    args = parse_args(SftArguments, ['--model', 'swift/tiny-qwen2', '--create_new_adapter', 'true'])
    with pytest.raises(ArgumentError, match='pass --adapters'):
        args.validate()
