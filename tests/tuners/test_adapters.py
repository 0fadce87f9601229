"""--adapters / --resume_from_checkpoint: continue a saved adapter; mismatches fail with one line."""
import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM

from swift.tuners import prepare_model
from swift.utils import ArgumentError
from ._utils import changed_names, logits_of, snapshot, train_steps
from .conftest import Args


@pytest.fixture
def saved_lora(load_model, batch, tmp_path):
    model = prepare_model(Args(lora_rank=4), load_model())
    train_steps(model, batch, steps=2)
    model.save_pretrained(tmp_path / 'adapter')
    return str(tmp_path / 'adapter'), logits_of(model, batch)


def _other_model(model_dir, **overrides):
    config = AutoConfig.from_pretrained(model_dir)
    for key, value in overrides.items():
        setattr(config, key, value)
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(config, dtype=torch.float32)


@pytest.mark.parametrize('how', ['adapters', 'resume_from_checkpoint'])
def test_continue_training_saved_adapter(load_model, batch, saved_lora, how):
    adapter_dir, expected = saved_lora
    kwargs = {'adapters': [adapter_dir]} if how == 'adapters' else {'resume_from_checkpoint': adapter_dir}
    model = prepare_model(Args(lora_rank=16, **kwargs), load_model())
    assert model.peft_config['default'].r == 4  # the saved adapter's config wins
    torch.testing.assert_close(logits_of(model, batch), expected, atol=1e-5, rtol=0)
    before = snapshot(model)
    train_steps(model, batch, steps=1)
    changed = changed_names(before, model)
    assert changed and all('lora_' in n for n in changed)


@pytest.mark.parametrize('overrides, words', [
    ({'hidden_size': 64, 'intermediate_size': 128}, 'size mismatch'),
    ({'num_hidden_layers': 6, 'layer_types': ['full_attention'] * 6}, 'saved weights have no place in it'),
])
def test_mismatched_adapter_is_one_line_error(load_model, model_dir, tmp_path, overrides, words):
    other = prepare_model(Args(), _other_model(model_dir, **overrides))
    other.save_pretrained(tmp_path / 'other')
    with pytest.raises(ArgumentError, match='does not fit this model') as info:
        prepare_model(Args(adapters=[str(tmp_path / 'other')]), load_model())
    assert words in str(info.value) and '\n' not in str(info.value)


def test_not_an_adapter_dir(load_model, tmp_path):
    with pytest.raises(ArgumentError, match='no adapter_config.json'):
        prepare_model(Args(adapters=[str(tmp_path)]), load_model())


def test_adapters_with_full_or_many(load_model, saved_lora):
    adapter_dir, _ = saved_lora
    with pytest.raises(ArgumentError, match='merge them first'):
        prepare_model(Args(train_type='full', adapters=[adapter_dir]), load_model())
    with pytest.raises(ArgumentError, match='one adapter at a time'):
        prepare_model(Args(adapters=[adapter_dir, adapter_dir]), load_model())


def test_unknown_train_type(load_model):
    with pytest.raises(ArgumentError, match='--train_type lorra is unknown; choose one of: lora, full'):
        prepare_model(Args(train_type='lorra'), load_model())
