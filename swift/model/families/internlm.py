"""InternLM2 / 2.5 and InternLM3 (remote-code checkpoints)."""
from ..constant import LLMModelType, ModelArch
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model


def _internlm(name: str) -> Model:
    return Model(f'Shanghai_AI_Laboratory/{name}', f'internlm/{name}')


register_model(
    ModelMeta(
        LLMModelType.internlm2,
        [ModelGroup([_internlm(n) for n in ('internlm2-chat-1_8b', 'internlm2-chat-7b', 'internlm2-chat-20b')]),
         ModelGroup([_internlm(n) for n in ('internlm2_5-1_8b-chat', 'internlm2_5-7b-chat', 'internlm2_5-20b-chat',
                                            'internlm2_5-7b')])],
        'internlm2', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.internlm2,
        architectures=['InternLM2ForCausalLM'], requires=['transformers>=4.38']))

# InternLM3 keeps InternLM2's chat format.
register_model(
    ModelMeta(LLMModelType.internlm3, [ModelGroup([_internlm('internlm3-8b-instruct')])], 'internlm2',
              get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama,
              architectures=['InternLM3ForCausalLM'], requires=['transformers>=4.48']))
