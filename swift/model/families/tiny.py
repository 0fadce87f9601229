"""The built-in offline test models (see swift/model/tiny.py)."""
from ..constant import LLMModelType, ModelArch
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model

register_model(
    ModelMeta(LLMModelType.tiny_qwen2, [ModelGroup([Model('swift/tiny-qwen2', 'swift/tiny-qwen2')])], 'qwen2_5',
              get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama, architectures=['Qwen2ForCausalLM'],
              tags=['offline', 'test']))

register_model(
    ModelMeta(LLMModelType.tiny_llama, [ModelGroup([Model('swift/tiny-llama', 'swift/tiny-llama')])], 'llama3',
              get_model_tokenizer_with_flash_attn, model_arch=ModelArch.llama, architectures=['LlamaForCausalLM'],
              tags=['offline', 'test']))
