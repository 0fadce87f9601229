"""Tiny random-weight vision-language models: `swift/tiny-qwen2-vl` and `swift/tiny-qwen2_5-vl`.

The tiny LLM of tiny.py (same sizes, same tokenizer plus Qwen2-VL's vision special tokens) under a two-block
vision tower, saved with a real Qwen2VLProcessor (image processor config + the official Qwen2-VL chat template),
so images go through the same transformers code as a real checkpoint. Images of 56x56 pixels give 4 tokens.
"""
from typing import Any, Dict

import torch

VISION_TOKENS = ['<|vision_start|>', '<|vision_end|>', '<|vision_pad|>', '<|image_pad|>', '<|video_pad|>']

# Vision tower sizes: 14x14 patches merged 2x2 as in the real models, a small width and depth.
TINY_VISION: Dict[str, Any] = {'depth': 2, 'num_heads': 2, 'patch_size': 14, 'spatial_merge_size': 2,
                               'temporal_patch_size': 2}
# Resize bounds of the tiny processor (the real defaults would make thousands of tokens per image on CPU).
TINY_MIN_PIXELS = 28 * 28
TINY_MAX_PIXELS = 112 * 112

VL_ARCHS = {
    'qwen2_vl': {'architectures': ['Qwen2VLForConditionalGeneration'], 'processor': 'Qwen2VLProcessor',
                 'vision': {'embed_dim': 32, 'mlp_ratio': 2, 'hidden_act': 'quick_gelu'}},
    'qwen2_5_vl': {'architectures': ['Qwen2_5_VLForConditionalGeneration'], 'processor': 'Qwen2_5_VLProcessor',
                   'vision': {'hidden_size': 32, 'intermediate_size': 64, 'hidden_act': 'silu',
                              'window_size': 56, 'fullatt_block_indexes': [1], 'tokens_per_second': 2}},
}


def add_vision_tokens(tokenizer, chat_template: str):
    """The tiny tokenizer with the vision special tokens and the Qwen2-VL chat template."""
    tokenizer.add_tokens(VISION_TOKENS, special_tokens=True)
    tokenizer.chat_template = chat_template
    return tokenizer


def build_vl_config(arch: str, tokenizer, text_config: Dict[str, Any]):
    from transformers import AutoConfig
    spec = VL_ARCHS[arch]
    ids = {name: tokenizer.convert_tokens_to_ids(tok) for name, tok in (
        ('image_token_id', '<|image_pad|>'), ('video_token_id', '<|video_pad|>'),
        ('vision_start_token_id', '<|vision_start|>'), ('vision_end_token_id', '<|vision_end|>'))}
    text = {**text_config, 'vocab_size': len(tokenizer),
            'bos_token_id': tokenizer.convert_tokens_to_ids('<|endoftext|>'),
            'eos_token_id': tokenizer.eos_token_id, 'pad_token_id': tokenizer.pad_token_id,
            'rope_parameters': {'rope_type': 'default', 'rope_theta': text_config['rope_theta'],
                                'mrope_section': [4, 6, 6]}}  # sums to head_dim / 2 = 16
    text.pop('rope_theta')
    tie = text.pop('tie_word_embeddings')
    vision = {**TINY_VISION, **spec['vision']}
    vision['out_hidden_size' if arch == 'qwen2_5_vl' else 'hidden_size'] = text_config['hidden_size']
    return AutoConfig.for_model(arch, text_config=text, vision_config=vision, tie_word_embeddings=tie,
                                architectures=spec['architectures'], dtype='float32', **ids)


def build_processor(arch: str, tokenizer):
    import transformers
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from .processor import build_processor as build
    image_processor = Qwen2VLImageProcessorPil(min_pixels=TINY_MIN_PIXELS, max_pixels=TINY_MAX_PIXELS,
                                               patch_size=TINY_VISION['patch_size'],
                                               merge_size=TINY_VISION['spatial_merge_size'],
                                               temporal_patch_size=TINY_VISION['temporal_patch_size'])
    processor_cls = getattr(transformers, VL_ARCHS[arch]['processor'])
    return build(processor_cls, image_processor, tokenizer, tokenizer.chat_template)


def make_vl_model_dir(path: str, arch: str, tokenizer, text_config: Dict[str, Any], init_weights) -> None:
    """Write model, tokenizer, processor and generation config of a tiny VL model into `path`."""
    from transformers import AutoModelForImageTextToText, GenerationConfig
    config = build_vl_config(arch, tokenizer, text_config)
    model = AutoModelForImageTextToText.from_config(config, dtype=torch.float32)
    init_weights(model)
    model.save_pretrained(path)
    build_processor(arch, tokenizer).save_pretrained(path)
    tokenizer.save_pretrained(path)
    stop_ids = [tokenizer.convert_tokens_to_ids(t) for t in ('<|im_end|>', '<|endoftext|>')]
    GenerationConfig(bos_token_id=config.text_config.bos_token_id, eos_token_id=stop_ids,
                     pad_token_id=tokenizer.pad_token_id).save_pretrained(path)
