"""Qwen2, Qwen2.5, Qwen3 and QwQ."""
from ..constant import LLMModelType, ModelArch
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model


def _qwen(name: str) -> Model:
    return Model(f'Qwen/{name}', f'Qwen/{name}')


register_model(
    ModelMeta(
        LLMModelType.qwen2,
        [ModelGroup([_qwen(f'Qwen2-{size}-Instruct') for size in ('0.5B', '1.5B', '7B', '72B')]),
         ModelGroup([_qwen(f'Qwen2-{size}') for size in ('0.5B', '1.5B', '7B', '72B')])],
        'qwen', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama,
        architectures=['Qwen2ForCausalLM'], requires=['transformers>=4.37']))

_QWEN2_5_SIZES = ('0.5B', '1.5B', '3B', '7B', '14B', '32B', '72B')
register_model(
    ModelMeta(
        LLMModelType.qwen2_5,
        [ModelGroup([_qwen(f'Qwen2.5-{size}-Instruct') for size in _QWEN2_5_SIZES]),
         ModelGroup([_qwen(f'Qwen2.5-{size}') for size in _QWEN2_5_SIZES]),
         ModelGroup([_qwen(f'Qwen2.5-Coder-{size}-Instruct') for size in _QWEN2_5_SIZES[:-1]], tags=['coding'])],
        'qwen2_5', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama,
        architectures=['Qwen2ForCausalLM'], requires=['transformers>=4.37']))

register_model(
    ModelMeta(
        LLMModelType.qwen3,
        [ModelGroup([_qwen(f'Qwen3-{size}') for size in ('0.6B', '1.7B', '4B', '8B', '14B', '32B')]),
         ModelGroup([_qwen(f'Qwen3-{size}-Base') for size in ('0.6B', '1.7B', '4B', '8B', '14B')]),
         ModelGroup([_qwen('Qwen3-4B-Instruct-2507'), _qwen('Qwen3-4B-Thinking-2507')])],
        'qwen3', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama,
        architectures=['Qwen3ForCausalLM'], requires=['transformers>=4.51']))

register_model(
    ModelMeta(
        LLMModelType.qwen3_moe,
        [ModelGroup([_qwen('Qwen3-30B-A3B'), _qwen('Qwen3-235B-A22B'), _qwen('Qwen3-30B-A3B-Base'),
                     _qwen('Qwen3-30B-A3B-Instruct-2507')])],
        'qwen3', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama,
        architectures=['Qwen3MoeForCausalLM'], requires=['transformers>=4.51']))

# QwQ-32B is a reasoning chatml model: the qwen3 template (think blocks dropped from history) is closest.
register_model(
    ModelMeta(LLMModelType.qwq, [ModelGroup([_qwen('QwQ-32B'), _qwen('QwQ-32B-Preview')])], 'qwen3',
              get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama, architectures=['Qwen2ForCausalLM'],
              requires=['transformers>=4.37'], tags=['reasoning']))
