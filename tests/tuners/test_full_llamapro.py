import pytest
import torch
from transformers import AutoModelForCausalLM

from swift.tuners import prepare_model
from swift.utils import ArgumentError
from ._utils import changed_names, logits_of, snapshot, train_steps
from .conftest import Args


def _trainable(model):
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_full_trains_everything(load_model, batch, tmp_path):
    model = prepare_model(Args(train_type='full'), load_model())
    assert _trainable(model) == {n for n, _ in model.named_parameters()}
    losses = train_steps(model, batch, lr=1e-3)
    assert losses[-1] < losses[0]
    model.save_pretrained(tmp_path)
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32)
    torch.testing.assert_close(logits_of(reloaded, batch), logits_of(model, batch), atol=1e-5, rtol=0)


def test_full_freeze_prefixes_then_trainable_wins(load_model, batch):
    args = Args(train_type='full', freeze_parameters=['model.layers.', 'model.embed_tokens'],
                trainable_parameters=['model.layers.3.mlp'])
    model = prepare_model(args, load_model())
    assert _trainable(model) == {n for n, _ in model.named_parameters()
                                 if n.startswith('model.layers.3.mlp') or n == 'model.norm.weight'}
    before = snapshot(model)
    train_steps(model, batch, steps=2)
    assert changed_names(before, model) == _trainable(model)


def test_full_freeze_ratio_bottom_up(load_model):
    model = prepare_model(Args(train_type='full', freeze_parameters_ratio=0.5), load_model())
    flags = [p.requires_grad for _, p in model.named_parameters()]
    assert flags[0] is False and flags[-1] is True
    assert flags == sorted(flags)  # a frozen prefix, then trainable
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    assert frozen <= 0.5 * sum(p.numel() for p in model.parameters())


def test_full_ratio_one_plus_trainable(load_model):
    args = Args(train_type='full', freeze_parameters_ratio=1., trainable_parameters=['model.norm'])
    assert _trainable(prepare_model(args, load_model())) == {'model.norm.weight'}


def test_full_unknown_prefix_is_an_error(load_model):
    with pytest.raises(ArgumentError, match="'transformer.h' matches no parameter"):
        prepare_model(Args(train_type='full', freeze_parameters=['transformer.h']), load_model())


def test_llamapro_expands_identity_and_trains_new_blocks_only(load_model, batch, tmp_path):
    base = load_model()
    expected = logits_of(base, batch)
    model = prepare_model(Args(train_type='llamapro', llamapro_num_new_blocks=2), base)
    assert model.config.num_hidden_layers == len(model.model.layers) == 6
    assert len(model.config.layer_types) == 6
    assert [layer.self_attn.layer_idx for layer in model.model.layers] == list(range(6))
    torch.testing.assert_close(logits_of(model, batch), expected, atol=1e-5, rtol=0)
    assert {n.split('.')[2] for n in _trainable(model)} == {'2', '5'}  # a new block after each group of 2
    before = snapshot(model)
    losses = train_steps(model, batch, lr=1e-3)
    assert losses[-1] < losses[0] and changed_names(before, model) == _trainable(model)
    model.save_pretrained(tmp_path)
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path, dtype=torch.float32)
    torch.testing.assert_close(logits_of(reloaded, batch), logits_of(model, batch), atol=1e-5, rtol=0)


def test_llamapro_generation_with_cache_matches_no_cache(load_model, batch):
    model = prepare_model(Args(train_type='llamapro', llamapro_num_new_blocks=4, llamapro_num_groups=2), load_model())
    train_steps(model, batch, steps=1, lr=1e-2)  # make the new blocks non-identity
    prompt = batch['input_ids'][:1, :6]
    kw = dict(max_new_tokens=5, do_sample=False, pad_token_id=0)
    with torch.no_grad():
        cached = model.generate(prompt, use_cache=True, **kw)
        uncached = model.generate(prompt, use_cache=False, **kw)
    assert torch.equal(cached, uncached)


def test_llamapro_bad_grouping(load_model):
    with pytest.raises(ArgumentError, match='divisible by --llamapro_num_groups'):
        prepare_model(Args(train_type='llamapro', llamapro_num_new_blocks=3), load_model())


def test_full_prefix_reaches_tied_lm_head(load_model):
    model = load_model()
    assert model.lm_head.weight is model.model.embed_tokens.weight
    args = Args(train_type='full', freeze_parameters_ratio=1., trainable_parameters=['lm_head'])
    model = prepare_model(args, model)
    assert model.lm_head.weight.requires_grad
