"""Unit checks of the memory-saving methods on the tiny model: what they train and how much optimizer state
they keep."""
import pytest
import torch
from transformers import TrainingArguments

from swift.tuners import optim  # noqa: F401  (registers the built-in optimizers)
from swift.tuners.lisa import LisaCallback
from swift.tuners.longlora import s2_attention_forward
from swift.plugin import create_optimizer
from ._utils import logits_of, train_steps
from .conftest import Args


def _training_args(tmp_path, **kw):
    return TrainingArguments(output_dir=str(tmp_path), use_cpu=True, learning_rate=1e-3, report_to='none', **kw)


def _state_numel(optimizer) -> int:
    optimizers = getattr(optimizer, 'optimizer_dict', None) or {None: optimizer}
    total = 0
    for opt in optimizers.values():
        for state in opt.state.values():
            total += sum(v.numel() for v in state.values() if torch.is_tensor(v) and v.dim() > 0)
    return total


@pytest.mark.parametrize('name, kwargs, at_most', [
    ('galore', {'use_galore': True, 'galore_rank': 4}, 0.5),
    ('apollo', {'use_apollo': True, 'apollo_rank': 4}, 0.5),
    ('adam_mini', {'use_adam_mini': True}, 0.6),
])
def test_optimizer_state_is_smaller_than_adamw(name, kwargs, at_most, load_model, batch, tmp_path):
    sizes = {}
    for key, args in (('adamw', None), (name, Args(train_type='full', **kwargs))):
        model = load_model()
        model.requires_grad_(True)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=1e-3) if args is None else \
            create_optimizer(name, args, model, _training_args(tmp_path))
        losses = train_steps(model, batch, steps=2, optimizer=opt)
        assert losses[1] < losses[0]
        sizes[key] = _state_numel(opt)
    assert sizes[name] <= at_most * sizes['adamw'], sizes


def test_galore_per_parameter_steps_in_backward(load_model, batch, tmp_path):
    model = load_model()
    args = Args(train_type='full', use_galore=True, galore_rank=4, galore_optim_per_parameter=True)
    opt = create_optimizer('galore', args, model, _training_args(tmp_path))
    before = model.model.layers[0].mlp.down_proj.weight.detach().clone()
    model(**batch).loss.backward()  # the hooks step each parameter and free its gradient
    assert model.model.layers[0].mlp.down_proj.weight.grad is None
    assert not torch.equal(before, model.model.layers[0].mlp.down_proj.weight)
    assert len(opt.optimizer_dict) == len([p for p in model.parameters() if p.requires_grad])


def test_lisa_trains_only_active_layers_and_drops_their_state(load_model, batch):
    model = load_model()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    lisa = LisaCallback(model, activated_layers=1, step_interval=1, seed=0)
    lisa.switch(0, opt)
    first = lisa.active
    train_steps(model, batch, steps=1, optimizer=opt)
    layer_params = {id(p): i for i, layer in enumerate(model.model.layers) for p in layer.parameters()}
    stateful = {layer_params[id(p)] for p in opt.state if id(p) in layer_params}
    assert stateful == set(first)
    while lisa.active == first:
        lisa.switch(1, opt)
    stateful = {layer_params[id(p)] for p in opt.state if id(p) in layer_params}
    assert not stateful & (set(first) - set(lisa.active))
    assert model.model.embed_tokens.weight.requires_grad


def test_lora_ga_keeps_the_output_at_init(load_model, batch):
    from swift.tuners.lora_ga import apply_lora_ga, estimate_gradients
    from swift.tuners.peft_tuners import prepare_peft

    class Template:
        @staticmethod
        def data_collator(rows):
            ids = torch.tensor([r['input_ids'] for r in rows])
            return {'input_ids': ids, 'labels': ids.clone(), 'attention_mask': torch.ones_like(ids)}
    rows = [{'input_ids': row.tolist()} for row in batch['input_ids']]
    args = Args(init_weights='lora-ga', lora_rank=4, lora_dropout=0.)
    model = load_model()
    base = logits_of(model, batch)
    grads = estimate_gradients(args, model, Template, rows)
    peft_model = prepare_peft(args, model)
    apply_lora_ga(args, peft_model, grads)
    lora_b = peft_model.base_model.model.model.layers[0].self_attn.q_proj.lora_B['default'].weight
    assert lora_b.abs().sum() > 0  # unlike plain LoRA, B starts non-zero
    assert torch.allclose(logits_of(peft_model, batch), base, atol=1e-4)


def test_s2_attention_is_full_attention_in_eval_and_grouped_in_training():
    torch.manual_seed(0)
    module = torch.nn.Module()
    q, k, v = (torch.randn(1, 4, 16, 8) for _ in range(3))
    module.eval()
    full, _ = s2_attention_forward(module, q, k, v, None, is_causal=True)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2)
    assert torch.allclose(full, ref, atol=1e-5)
    module.train()
    grouped, _ = s2_attention_forward(module, q, k, v, None)
    assert grouped.shape == full.shape
    # the first group of unshifted heads sees only its own group: identical to full causal attention there
    assert torch.allclose(grouped[:, :4, :2], full[:, :4, :2], atol=1e-5)
    assert not torch.allclose(grouped[:, 4:], full[:, 4:], atol=1e-3)
