"""Phi-3 / 3.5 and Phi-4."""
from ..constant import LLMModelType, ModelArch
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model


def _ms(name: str) -> Model:
    return Model(f'LLM-Research/{name}', f'microsoft/{name}')


register_model(
    ModelMeta(
        LLMModelType.phi3,
        [ModelGroup([_ms(n) for n in ('Phi-3-mini-4k-instruct', 'Phi-3-mini-128k-instruct', 'Phi-3-small-8k-instruct',
                                      'Phi-3-medium-4k-instruct', 'Phi-3-medium-128k-instruct')]),
         ModelGroup([_ms('Phi-3.5-mini-instruct')])],
        'phi3', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.phi3, architectures=['Phi3ForCausalLM'],
        requires=['transformers>=4.36']))

register_model(
    ModelMeta(LLMModelType.phi4, [ModelGroup([_ms('phi-4')])], 'phi4', get_model_tokenizer_with_flash_attn,
              model_arch=ModelArch.phi3, architectures=['Phi3ForCausalLM'], requires=['transformers>=4.36']))
