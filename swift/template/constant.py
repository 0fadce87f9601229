"""Names of the registered template types (ms-swift-compatible string constants)."""


class TemplateType:
    default = 'default'
    dummy = 'dummy'
    empty = 'empty'
    jinja = 'jinja'
    chatml = 'chatml'
    qwen = 'qwen'
    qwen2_5 = 'qwen2_5'
    qwen3 = 'qwen3'
    qwen2_vl = 'qwen2_vl'
    qwen2_5_vl = 'qwen2_5_vl'
    yi = 'yi'
    llama = 'llama'
    llama3 = 'llama3'
    llama3_1 = 'llama3_1'
    llama3_2 = 'llama3_2'
    mistral = 'mistral'
    mistral_nemo = 'mistral_nemo'
    gemma = 'gemma'
    glm4 = 'glm4'
    deepseek = 'deepseek'
    deepseek_v2_5 = 'deepseek_v2_5'
    deepseek_r1 = 'deepseek_r1'
    internlm2 = 'internlm2'
    phi3 = 'phi3'
    phi4 = 'phi4'


class ContextType:
    """What a rendered piece is, so loss-scale functions can weight it."""
    RESPONSE = 'response'
    SUFFIX = 'suffix'
    OTHER = 'other'
