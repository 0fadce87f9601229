import json

import pytest


@pytest.fixture(scope='session')
def model_template():
    from swift.model import get_model_tokenizer
    from swift.template import get_template
    model, tokenizer = get_model_tokenizer('swift/tiny-qwen2')
    template = get_template(tokenizer.model_meta.template, tokenizer)
    template.set_mode('infer')
    return model, template


@pytest.fixture(scope='session')
def engine(model_template):
    from swift.infer import PtEngine
    model, template = model_template
    return PtEngine.from_model_template(model, template, max_batch_size=8)


@pytest.fixture(scope='session')
def lora_dir(tmp_path_factory, model_template):
    """A random (non-zero) LoRA saved like a training checkpoint, with args.json naming the base model."""
    import copy

    import torch
    from peft import LoraConfig, get_peft_model
    model, _ = model_template
    torch.manual_seed(0)
    config = LoraConfig(r=8, lora_alpha=32, target_modules=['q_proj', 'v_proj', 'up_proj'], init_lora_weights=False)
    peft_model = get_peft_model(copy.deepcopy(model), config)
    path = tmp_path_factory.mktemp('ckpt') / 'checkpoint-5'
    peft_model.save_pretrained(str(path))
    with open(path / 'args.json', 'w') as f:
        json.dump({'model': 'swift/tiny-qwen2', 'train_type': 'lora', 'system': 'You are a tiny model.'}, f)
    return str(path)
