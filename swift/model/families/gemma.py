"""Gemma 2 and Gemma 3 (text-only checkpoints)."""
import torch

from ..constant import LLMModelType, ModelArch
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model


def _google(name: str) -> Model:
    return Model(f'LLM-Research/{name}', f'google/{name}')


# Gemma's logits soft-capping overflows in float16: the checkpoints default to bfloat16.
register_model(
    ModelMeta(
        LLMModelType.gemma2,
        [ModelGroup([_google(f'gemma-2-{size}-it') for size in ('2b', '9b', '27b')]),
         ModelGroup([_google(f'gemma-2-{size}') for size in ('2b', '9b', '27b')])],
        'gemma', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama, torch_dtype=torch.bfloat16,
        architectures=['Gemma2ForCausalLM'], requires=['transformers>=4.42']))

register_model(
    ModelMeta(
        LLMModelType.gemma3_text,
        [ModelGroup([_google('gemma-3-1b-it'), _google('gemma-3-1b-pt'), _google('gemma-3-270m-it'),
                     _google('gemma-3-270m')])],
        'gemma', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama, torch_dtype=torch.bfloat16,
        architectures=['Gemma3ForCausalLM'], requires=['transformers>=4.50']))
