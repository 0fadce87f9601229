from types import SimpleNamespace

import pytest
import torch
from peft import PeftModel
from transformers import AutoModelForSequenceClassification

from swift.tuners import prepare_model, save_adapter
from ._utils import changed_names, logits_of, snapshot, train_steps
from .conftest import Args

PROJ = {'q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'}


def test_all_linear_targets_every_linear_but_lm_head(load_model):
    model = prepare_model(Args(), load_model())
    assert set(model.peft_config['default'].target_modules) == PROJ
    lora_names = {n for n, _ in model.named_parameters() if 'lora_' in n}
    assert lora_names and not any('lm_head' in n or 'embed' in n for n in lora_names)
    assert all('lora_' in n for n, p in model.named_parameters() if p.requires_grad)


def test_target_regex_overrides_target_modules(load_model):
    model = prepare_model(Args(target_regex=r'.*\.layers\.0\.self_attn\.q_proj'), load_model())
    tuned = {n.split('.lora_')[0] for n, p in model.named_parameters() if p.requires_grad}
    assert tuned == {'base_model.model.model.layers.0.self_attn.q_proj'}


def test_modules_to_save_trains_norm(load_model, batch):
    model = prepare_model(Args(modules_to_save=['norm'], target_modules=['q_proj']), load_model())
    before = snapshot(model)
    train_steps(model, batch, steps=2)
    changed = changed_names(before, model)
    assert any('modules_to_save' in n and 'norm' in n for n in changed)


@pytest.mark.parametrize('kwargs', [
    {}, {'use_dora': True}, {'use_rslora': True}, {'init_weights': 'gaussian'}, {'init_weights': 'pissa'},
    {'init_weights': 'olora'}, {'init_weights': 'false'}, {'lora_bias': 'all'},
], ids=lambda kw: '-'.join(f'{k}={v}' for k, v in kw.items()) or 'lora')
def test_lora_variants_train_save_reload(load_model, batch, tmp_path, kwargs):
    model = prepare_model(Args(**kwargs), load_model())
    before = snapshot(model)
    losses = train_steps(model, batch, steps=4, lr=2e-3)
    assert losses[-1] < losses[0]
    changed = changed_names(before, model)
    assert changed and all(model.get_parameter(n).requires_grad for n in changed)
    expected = logits_of(model, batch)
    model.save_pretrained(tmp_path)
    reloaded = PeftModel.from_pretrained(load_model(), tmp_path)
    torch.testing.assert_close(logits_of(reloaded, batch), expected, atol=1e-5, rtol=0)


def test_pissa_niter_saved_as_plain_lora_reloads(load_model, batch, tmp_path):
    model = prepare_model(Args(init_weights='pissa_niter_2'), load_model())
    train_steps(model, batch)
    expected = logits_of(model, batch)
    save_adapter(model, str(tmp_path))
    reloaded = PeftModel.from_pretrained(load_model(), tmp_path)
    assert reloaded.peft_config['default'].init_lora_weights is True
    torch.testing.assert_close(logits_of(reloaded, batch), expected, atol=1e-5, rtol=0)


def test_lora_dtype_casts_adapter_only(load_model):
    model = prepare_model(Args(lora_dtype='bfloat16'), load_model())
    dtypes = {n: p.dtype for n, p in model.named_parameters()}
    assert all(d == torch.bfloat16 for n, d in dtypes.items() if 'lora_' in n)
    assert all(d == torch.float32 for n, d in dtypes.items() if 'lora_' not in n)


def test_seq_cls_head_is_trained_whole_not_lora(model_dir):
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=2, dtype=torch.float32)
    model.model_info = SimpleNamespace(task_type='seq_cls')
    model = prepare_model(Args(), model)
    assert 'score' not in model.peft_config['default'].target_modules
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert 'base_model.model.score.modules_to_save.default.weight' in trainable
