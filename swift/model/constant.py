"""Names of model types and architectures (same spellings as ms-swift 3.x so plugin files keep working)."""


class LLMModelType:
    tiny_qwen2 = 'tiny_qwen2'
    tiny_llama = 'tiny_llama'

    qwen2 = 'qwen2'
    qwen2_5 = 'qwen2_5'
    qwen3 = 'qwen3'
    qwen3_moe = 'qwen3_moe'
    qwq = 'qwq'

    llama = 'llama'
    llama3 = 'llama3'
    llama3_1 = 'llama3_1'
    llama3_2 = 'llama3_2'

    mistral = 'mistral'
    gemma2 = 'gemma2'
    gemma3_text = 'gemma3_text'
    glm4 = 'glm4'

    deepseek = 'deepseek'
    deepseek_v2_5 = 'deepseek_v2_5'
    deepseek_r1 = 'deepseek_r1'
    deepseek_r1_distill = 'deepseek_r1_distill'

    internlm2 = 'internlm2'
    internlm3 = 'internlm3'
    phi3 = 'phi3'
    phi4 = 'phi4'
    yi = 'yi'


class ModelArch:
    """Module-layout families (which attribute holds the layers, embeddings, lm_head)."""
    llama = 'llama'  # also Qwen, Mistral, Gemma, Yi: model.layers / embed_tokens / lm_head
    chatglm = 'chatglm'
    deepseek_v2 = 'deepseek_v2'
    internlm2 = 'internlm2'
    phi3 = 'phi3'


class ModelType(LLMModelType):
    """ms-swift exposes all model types on `ModelType`; only text models exist here."""
