"""freeze_llm / freeze_vit / freeze_aligner on a tiny random Qwen2-VL (built in memory, no files)."""
from types import SimpleNamespace

import pytest
import torch
from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration

from swift.tuners import prepare_model
from .conftest import Args


@pytest.fixture(scope='module')
def vlm_config():
    text = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, vocab_size=256, bos_token_id=0, eos_token_id=1,
                rope_scaling={'type': 'mrope', 'mrope_section': [2, 3, 3]})
    vision = dict(depth=2, embed_dim=32, hidden_size=64, num_heads=2, mlp_ratio=2, patch_size=14,
                  spatial_merge_size=2, temporal_patch_size=2)
    return Qwen2VLConfig(text_config=text, vision_config=vision)


@pytest.fixture
def vlm(vlm_config):
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(vlm_config)
    model.model_meta = SimpleNamespace(is_multimodal=True)
    return model


PART_PREFIXES = {'llm': 'model.language_model.', 'vit': 'model.visual.blocks.', 'aligner': 'model.visual.merger.'}


def _tuned_parts(model):
    names = [n.replace('base_model.model.', '', 1) for n, p in model.named_parameters() if p.requires_grad]
    return {part for part, prefix in PART_PREFIXES.items() if any(n.startswith(prefix) for n in names)}


@pytest.mark.parametrize('kwargs, parts', [
    ({}, {'llm'}),
    ({'freeze_vit': False}, {'llm', 'vit'}),
    ({'freeze_llm': True, 'freeze_aligner': False}, {'aligner'}),
])
def test_lora_all_linear_follows_freeze_flags(vlm, kwargs, parts):
    model = prepare_model(Args(**kwargs), vlm)
    assert _tuned_parts(model) == parts
    assert not any('lm_head' in n for n, p in model.named_parameters() if p.requires_grad)


@pytest.mark.parametrize('kwargs, parts', [
    ({}, {'llm'}),
    ({'freeze_aligner': False}, {'llm', 'aligner'}),
    ({'freeze_llm': True, 'freeze_vit': False, 'trainable_parameters': ['lm_head']}, {'vit'}),
])
def test_full_follows_freeze_flags(vlm, kwargs, parts):
    args = Args(train_type='full', **kwargs)
    model = prepare_model(args, vlm)
    assert _tuned_parts(model) == parts
    assert model.lm_head.weight.requires_grad == (not args.freeze_llm or 'lm_head' in args.trainable_parameters)
