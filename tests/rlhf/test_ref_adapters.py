"""--ref_adapters / --ref_model_adapters: the DPO/KTO reference is the base plus those adapters, merged and frozen."""
import pytest
import torch
from peft import PeftModel

from swift.arguments import RLHFArguments, parse_args
from swift.model import get_model_tokenizer
from swift.pipelines.rlhf import rlhf_main
from swift.pipelines.sft import sft_main
from swift.utils import ArgumentError
from .conftest import rlhf_argv
from .test_train import _logp, _pairs

IDS = torch.tensor([[5, 17, 42, 99, 7, 3]])


@pytest.fixture(scope='module')
def sft_lora(tmp_path_factory, pref_jsonl):
    out = tmp_path_factory.mktemp('sft')
    result = sft_main(['--model', 'swift/tiny-qwen2', '--dataset', pref_jsonl, '--output_dir', str(out),
                       '--add_version', 'false', '--report_to', 'none', '--split_dataset_ratio', '0',
                       '--save_strategy', 'no', '--max_steps', '2', '--learning_rate', '5e-2', '--plot_loss', 'false'])
    return result['last_model_checkpoint']


@torch.no_grad()
def _logits(model):
    return model.eval()(input_ids=IDS).logits


@pytest.mark.parametrize('rlhf_type,flag', [('dpo', '--ref_adapters'), ('kto', '--ref_model_adapters')])
def test_reference_is_base_plus_ref_adapters(tmp_path, pref_jsonl, sft_lora, rlhf_type, flag):
    result = rlhf_main(rlhf_argv(rlhf_type, pref_jsonl, tmp_path, '--adapters', sft_lora, flag, sft_lora))
    trainer = result['trainer']
    ref = trainer.ref_model
    assert ref is not None and not any(p.requires_grad for p in ref.parameters())
    base, base_tokenizer = get_model_tokenizer('swift/tiny-qwen2')
    expected = PeftModel.from_pretrained(get_model_tokenizer('swift/tiny-qwen2')[0], sft_lora).merge_and_unload()
    torch.testing.assert_close(_logits(ref), _logits(expected), atol=1e-5, rtol=0)
    assert (_logits(ref) - _logits(base)).abs().max() > 1e-2  # the reference is not the plain base model
    pair = _pairs(base_tokenizer, pref_jsonl)[0]  # the reference log-probability of a chosen answer moved
    assert abs(_logp(ref, pair['prompt_ids'], pair['chosen_ids']) - _logp(base, pair['prompt_ids'],
                                                                          pair['chosen_ids'])) > 1e-3


def test_without_ref_adapters_the_reference_is_the_disabled_adapter(tmp_path, pref_jsonl, sft_lora):
    result = rlhf_main(rlhf_argv('dpo', pref_jsonl, tmp_path, '--adapters', sft_lora))
    assert result['trainer'].ref_model is None  # trl disables the adapter: the base model is the reference


def test_ref_adapters_refused_where_there_is_no_reference(pref_jsonl, sft_lora):
    args = parse_args(RLHFArguments, rlhf_argv('orpo', pref_jsonl, '/tmp/x', '--ref_adapters', sft_lora))
    with pytest.raises(ArgumentError, match='--ref_adapters is used by dpo, kto, ppo only'):
        args.validate()


def test_ppo_reference_with_ref_adapters(tmp_path, pref_jsonl, sft_lora):
    result = rlhf_main(rlhf_argv('ppo', pref_jsonl, tmp_path, '--reward_model', 'swift/tiny-qwen2',
                                 '--ref_adapters', sft_lora, '--response_length', '4', '--num_ppo_epochs', '1',
                                 '--max_steps', '1'))
    expected = PeftModel.from_pretrained(get_model_tokenizer('swift/tiny-qwen2')[0], sft_lora).merge_and_unload()
    torch.testing.assert_close(_logits(result['trainer'].ref_model), _logits(expected), atol=1e-5, rtol=0)
