"""Names of model types and architectures (same spellings as ms-swift 3.x so plugin files keep working)."""
from dataclasses import dataclass
from typing import Tuple


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


class MLLMModelType:
    tiny_qwen2_vl = 'tiny_qwen2_vl'
    tiny_qwen2_5_vl = 'tiny_qwen2_5_vl'

    qwen2_vl = 'qwen2_vl'
    qwen2_5_vl = 'qwen2_5_vl'

    tiny_llava = 'tiny_llava'
    llava1_5_hf = 'llava1_5_hf'


@dataclass(frozen=True)
class MultiModelKeys:
    """Module-name prefixes of the parts of a multimodal model (ModelMeta.model_arch), read by swift/tuners for
    --freeze_llm/--freeze_vit/--freeze_aligner, LoRA targets and --vit_lr/--aligner_lr."""
    language_model: Tuple[str, ...]
    vision_tower: Tuple[str, ...]
    aligner: Tuple[str, ...]


class MLLMModelArch:
    # transformers 5 layout of Qwen2-VL / Qwen2.5-VL: model.visual (merger inside), model.language_model, lm_head
    qwen2_vl = MultiModelKeys(('model.language_model', 'lm_head'), ('model.visual',), ('model.visual.merger',))
    # LlavaForConditionalGeneration: a CLIP tower and a two-layer MLP projector beside the language model
    llava_hf = MultiModelKeys(('model.language_model', 'lm_head'), ('model.vision_tower',),
                              ('model.multi_modal_projector',))


class ModelType(LLMModelType, MLLMModelType):
    """ms-swift exposes all model types on `ModelType`."""
