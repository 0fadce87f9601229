"""Loading vision-language models: the transformers processor next to the tokenizer, the image-text-to-text
Auto class for the weights."""
from typing import Any, Dict


def get_model_tokenizer_multimodal(model_dir: str, model_info, model_kwargs: Dict[str, Any], load_model: bool = True,
                                   **kwargs):
    """(model, tokenizer) with `tokenizer.processor` set to the model's processor (AutoProcessor)."""
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from .loader import get_model_tokenizer_with_flash_attn
    processor = AutoProcessor.from_pretrained(model_dir, trust_remote_code=True)
    tokenizer = processor.tokenizer
    tokenizer.processor = processor
    if tokenizer.chat_template is None:  # the processor holds the multimodal chat template
        tokenizer.chat_template = processor.chat_template
    return get_model_tokenizer_with_flash_attn(model_dir, model_info, model_kwargs, load_model, tokenizer=tokenizer,
                                               automodel_class=AutoModelForImageTextToText, **kwargs)
