"""LLaVA (transformers' LlavaForConditionalGeneration, llava-hf checkpoints) and the offline `swift/tiny-llava`."""
from ..constant import MLLMModelArch, MLLMModelType
from ..loader import get_model_tokenizer_with_flash_attn
from ..register import Model, ModelGroup, ModelMeta, register_model


def get_model_tokenizer_llava_hf(model_dir: str, model_info, model_kwargs, load_model: bool = True, **kwargs):
    """(model, tokenizer) with the LlavaProcessor as `tokenizer.processor` (it has no video processor, so
    AutoProcessor builds it with or without torchvision)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor
    processor = AutoProcessor.from_pretrained(model_dir, trust_remote_code=True)
    tokenizer = processor.tokenizer
    tokenizer.processor = processor
    if tokenizer.chat_template is None:  # llava-hf keeps the chat template with the processor
        tokenizer.chat_template = processor.chat_template
    return get_model_tokenizer_with_flash_attn(model_dir, model_info, model_kwargs, load_model, tokenizer=tokenizer,
                                               automodel_class=AutoModelForImageTextToText, **kwargs)


def _llava_meta(model_type: str, groups, *tags: str) -> ModelMeta:
    return ModelMeta(model_type, groups, 'llava1_5_hf', get_model_tokenizer_llava_hf, model_arch=MLLMModelArch.llava_hf,
                     architectures=['LlavaForConditionalGeneration'], is_multimodal=True,
                     requires=['transformers>=4.36'], tags=['vision', *tags])


register_model(_llava_meta(MLLMModelType.llava1_5_hf, [ModelGroup([
    Model(f'llava-hf/llava-1.5-{size}-hf', f'llava-hf/llava-1.5-{size}-hf') for size in ('7b', '13b')])]))

register_model(_llava_meta(MLLMModelType.tiny_llava, [ModelGroup([Model('swift/tiny-llava', 'swift/tiny-llava')])],
                           'offline', 'test'))
