"""Mistral 7B (v0.1 - v0.3) and Mistral-Nemo."""
from ..constant import LLMModelType, ModelArch
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model

register_model(
    ModelMeta(
        LLMModelType.mistral,
        [ModelGroup([Model('AI-ModelScope/Mistral-7B-Instruct-v0.1', 'mistralai/Mistral-7B-Instruct-v0.1'),
                     Model('AI-ModelScope/Mistral-7B-Instruct-v0.2', 'mistralai/Mistral-7B-Instruct-v0.2'),
                     Model('LLM-Research/Mistral-7B-Instruct-v0.3', 'mistralai/Mistral-7B-Instruct-v0.3'),
                     Model('AI-ModelScope/Mistral-7B-v0.1', 'mistralai/Mistral-7B-v0.1')]),
         ModelGroup([Model('AI-ModelScope/Mistral-Nemo-Instruct-2407', 'mistralai/Mistral-Nemo-Instruct-2407')])],
        'mistral', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama,
        architectures=['MistralForCausalLM'], requires=['transformers>=4.34']))
