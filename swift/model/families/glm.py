"""GLM-4 (the chatglm-style remote-code checkpoints, the -hf conversions and the 0414 series)."""
from ..constant import LLMModelType, ModelArch
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model

register_model(
    ModelMeta(
        LLMModelType.glm4,
        [ModelGroup([Model('ZhipuAI/glm-4-9b-chat', 'THUDM/glm-4-9b-chat'),
                     Model('ZhipuAI/glm-4-9b', 'THUDM/glm-4-9b'),
                     Model('ZhipuAI/glm-4-9b-chat-1m', 'THUDM/glm-4-9b-chat-1m'),
                     Model('ZhipuAI/glm-4-9b-chat-hf', 'THUDM/glm-4-9b-chat-hf')]),
         ModelGroup([Model('ZhipuAI/GLM-4-9B-0414', 'THUDM/GLM-4-9B-0414'),
                     Model('ZhipuAI/GLM-4-32B-0414', 'THUDM/GLM-4-32B-0414')])],
        'glm4', get_model_tokenizer_with_flash_attn, model_arch=ModelArch.chatglm,
        architectures=['ChatGLMModel', 'ChatGLMForConditionalGeneration', 'GlmForCausalLM', 'Glm4ForCausalLM']))
