"""Llama 2, Llama 3, 3.1/3.3 and 3.2 (text)."""
from ..constant import LLMModelType, ModelArch
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model


def _meta(model_type: str, groups, template: str, requires=None) -> ModelMeta:
    return ModelMeta(model_type, groups, template, get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama,
                     architectures=['LlamaForCausalLM'], requires=requires or [])


register_model(
    _meta(LLMModelType.llama, [
        ModelGroup([Model(f'modelscope/Llama-2-{size}-chat-ms', f'meta-llama/Llama-2-{size}-chat-hf')
                    for size in ('7b', '13b', '70b')]),
        ModelGroup([Model(f'modelscope/Llama-2-{size}-ms', f'meta-llama/Llama-2-{size}-hf')
                    for size in ('7b', '13b', '70b')]),
    ], 'llama'))

register_model(
    _meta(LLMModelType.llama3, [
        ModelGroup([Model(f'LLM-Research/Meta-Llama-3-{size}-Instruct', f'meta-llama/Meta-Llama-3-{size}-Instruct')
                    for size in ('8B', '70B')]),
        ModelGroup([Model(f'LLM-Research/Meta-Llama-3-{size}', f'meta-llama/Meta-Llama-3-{size}')
                    for size in ('8B', '70B')]),
    ], 'llama3'))

# Llama 3.3 uses the 3.1 chat format (fixed 'Today Date' system header).
register_model(
    _meta(LLMModelType.llama3_1, [
        ModelGroup([Model(f'LLM-Research/Meta-Llama-3.1-{size}-Instruct', f'meta-llama/Llama-3.1-{size}-Instruct')
                    for size in ('8B', '70B', '405B')]),
        ModelGroup([Model(f'LLM-Research/Meta-Llama-3.1-{size}', f'meta-llama/Llama-3.1-{size}')
                    for size in ('8B', '70B')]),
        ModelGroup([Model('LLM-Research/Llama-3.3-70B-Instruct', 'meta-llama/Llama-3.3-70B-Instruct')]),
    ], 'llama3_1', requires=['transformers>=4.43']))

register_model(
    _meta(LLMModelType.llama3_2, [
        ModelGroup([Model(f'LLM-Research/Llama-3.2-{size}-Instruct', f'meta-llama/Llama-3.2-{size}-Instruct')
                    for size in ('1B', '3B')]),
        ModelGroup([Model(f'LLM-Research/Llama-3.2-{size}', f'meta-llama/Llama-3.2-{size}') for size in ('1B', '3B')]),
    ], 'llama3_2', requires=['transformers>=4.45']))
