"""LoRA+, AdaLoRA (with its Trainer callback), VeRA, BOFT and FourierFT."""
import pytest
import torch
from datasets import Dataset
from peft import PeftModel
from transformers import Trainer, TrainingArguments

from swift.tuners import AdaLoraCallback, create_optimizer, prepare_model
from swift.utils import ArgumentError
from ._utils import changed_names, logits_of, snapshot, train_steps
from .conftest import Args


def test_loraplus_optimizer_groups(load_model, tmp_path):
    args = Args(lorap_lr_ratio=16.)
    model = prepare_model(args, load_model())
    training_args = TrainingArguments(str(tmp_path), learning_rate=1e-4, weight_decay=0.1, use_cpu=True,
                                      report_to='none')
    optimizer = create_optimizer(args, model, training_args)
    lr_of = {id(p): g['lr'] for g in optimizer.param_groups for p in g['params']}
    for name, param in model.named_parameters():
        if 'lora_A' in name:
            assert lr_of[id(param)] == pytest.approx(1e-4)
        elif 'lora_B' in name:
            assert lr_of[id(param)] == pytest.approx(16e-4)
    assert sum(len(g['params']) for g in optimizer.param_groups) == sum(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize('train_type, kwargs', [
    ('vera', {'vera_rank': 16, 'vera_d_initial': 0.1}),
    ('boft', {'boft_block_size': 4, 'target_modules': ['q_proj', 'v_proj']}),
    ('boft', {'boft_block_num': 8, 'boft_block_size': 0, 'target_modules': ['q_proj']}),
    ('fourierft', {'fourier_n_frequency': 100, 'fourier_scaling': 100.}),
])
def test_peft_tuner_train_save_reload(load_model, batch, tmp_path, train_type, kwargs):
    model = prepare_model(Args(train_type=train_type, **kwargs), load_model())
    before = snapshot(model)
    losses = train_steps(model, batch, steps=4, lr=5e-3)
    assert losses[-1] < losses[0]
    changed = changed_names(before, model)
    assert changed and all(model.get_parameter(n).requires_grad for n in changed)
    assert not any('base_layer' in n for n in changed)
    expected = logits_of(model, batch)
    model.save_pretrained(tmp_path)
    reloaded = PeftModel.from_pretrained(load_model(), tmp_path)
    torch.testing.assert_close(logits_of(reloaded, batch), expected, atol=1e-5, rtol=0)


def test_adalora_needs_total_steps(load_model):
    with pytest.raises(ArgumentError, match='--max_steps'):
        prepare_model(Args(train_type='adalora'), load_model())


def test_adalora_trainer_callback_allocates_ranks(load_model, batch, tmp_path):
    args = Args(train_type='adalora', max_steps=6, adalora_init_r=6, adalora_target_r=2, adalora_tinit=1,
                adalora_tfinal=2, target_modules=['q_proj', 'v_proj'])
    model = prepare_model(args, load_model())
    rows = [{k: v[i] for k, v in batch.items() if k != 'attention_mask'} for i in range(2)]
    training_args = TrainingArguments(str(tmp_path), max_steps=args.max_steps, per_device_train_batch_size=2,
                                      learning_rate=1e-2, use_cpu=True, report_to='none', save_strategy='no',
                                      logging_strategy='no', bf16=False, fp16=False)
    trainer = Trainer(model=model, args=training_args, train_dataset=Dataset.from_list(rows),
                      callbacks=[AdaLoraCallback()])
    trainer.train()
    rank_pattern = model.peft_config['default'].rank_pattern
    assert rank_pattern, 'update_and_allocate never finalised the budget'
    kept = sum(int(sum(mask)) for mask in rank_pattern.values())
    assert kept == 2 * len(rank_pattern)  # target_r per module on average
    model.save_pretrained(tmp_path / 'adapter')
    reloaded = PeftModel.from_pretrained(load_model(), tmp_path / 'adapter')
    torch.testing.assert_close(logits_of(reloaded, batch), logits_of(model, batch), atol=1e-5, rtol=0)
