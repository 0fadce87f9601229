"""Yi and Yi-1.5 (Llama architecture, chatml chat format)."""
from ..constant import LLMModelType, ModelArch
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model


def _yi(name: str) -> Model:
    return Model(f'01ai/{name}', f'01-ai/{name}')


register_model(
    ModelMeta(
        LLMModelType.yi,
        [ModelGroup([_yi(n) for n in ('Yi-6B-Chat', 'Yi-34B-Chat', 'Yi-6B', 'Yi-34B')]),
         ModelGroup([_yi(f'Yi-1.5-{size}-Chat') for size in ('6B', '9B', '34B')] +
                    [_yi(f'Yi-1.5-{size}-Chat-16K') for size in ('9B', '34B')])],
        'yi', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama,
        architectures=['LlamaForCausalLM']))
