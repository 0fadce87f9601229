"""DeepSeek LLM / V2, V2.5 / V3, R1 and the R1 distills (Qwen and Llama based)."""
from ..constant import LLMModelType, ModelArch
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model


def _ds(name: str) -> Model:
    return Model(f'deepseek-ai/{name}', f'deepseek-ai/{name}')


register_model(
    ModelMeta(
        LLMModelType.deepseek,
        [ModelGroup([_ds('deepseek-llm-7b-chat'), _ds('deepseek-llm-67b-chat'), _ds('deepseek-llm-7b-base')]),
         ModelGroup([_ds('DeepSeek-V2-Lite-Chat'), _ds('DeepSeek-V2-Lite'), _ds('DeepSeek-V2-Chat')])],
        'deepseek', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.deepseek_v2,
        architectures=['DeepseekV2ForCausalLM']))

register_model(
    ModelMeta(
        LLMModelType.deepseek_v2_5,
        [ModelGroup([_ds('DeepSeek-V2.5'), _ds('DeepSeek-V2.5-1210')]),
         ModelGroup([_ds('DeepSeek-V3'), _ds('DeepSeek-V3-0324'), _ds('DeepSeek-V3-Base')])],
        'deepseek_v2_5', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.deepseek_v2,
        architectures=['DeepseekV2ForCausalLM', 'DeepseekV3ForCausalLM']))

register_model(
    ModelMeta(
        LLMModelType.deepseek_r1, [ModelGroup([_ds('DeepSeek-R1'), _ds('DeepSeek-R1-Zero'), _ds('DeepSeek-R1-0528')])],
        'deepseek_r1', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.deepseek_v2,
        architectures=['DeepseekV3ForCausalLM'], tags=['reasoning']))

register_model(
    ModelMeta(
        LLMModelType.deepseek_r1_distill,
        [ModelGroup([_ds(f'DeepSeek-R1-Distill-Qwen-{size}') for size in ('1.5B', '7B', '14B', '32B')]),
         ModelGroup([_ds(f'DeepSeek-R1-Distill-Llama-{size}') for size in ('8B', '70B')])],
        'deepseek_r1', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama,
        architectures=['Qwen2ForCausalLM', 'LlamaForCausalLM'], tags=['reasoning']))
