"""`swift/tiny-llava`: a random-weight LlavaForConditionalGeneration built offline (like swift/tiny-qwen2).

A small CLIP vision tower (32x32 images, 8x8 patches: 16 image tokens), the tiny Llama as language model, the
tiny tokenizer with an `<image>` token, and a LlavaProcessor carrying llava-1.5-hf's official chat template.
"""
import os
from typing import Any, Dict

import torch

IMAGE_TOKEN = '<image>'
VISION_CONFIG: Dict[str, Any] = {
    'hidden_size': 32, 'intermediate_size': 64, 'num_hidden_layers': 2, 'num_attention_heads': 2,
    'image_size': 32, 'patch_size': 8, 'projection_dim': 32,
}
IMAGE_SIZE = VISION_CONFIG['image_size']
# llava-hf/llava-1.5-7b-hf's chat_template.json
LLAVA_1_5_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}"
    "{% endif %}{# Render all images first #}{% for content in message['content'] | selectattr('type', 'equalto', "
    "'image') %}{{ '<image>\n' }}{% endfor %}{# Render all text next #}{% if message['role'] != 'assistant' %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}"
    "{% endfor %}{% else %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}"
    "{% generation %}{{ content['text'] + ' '}}{% endgeneration %}{% endfor %}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}")


def build_processor():
    """The tiny Llama tokenizer plus `<image>`, a CLIP image processor at 32x32 and the LlavaProcessor."""
    from transformers import LlavaProcessor
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
    from .tiny import load_tiny_tokenizer
    tokenizer = load_tiny_tokenizer('swift/tiny-llama')
    tokenizer.add_special_tokens({'additional_special_tokens': [IMAGE_TOKEN]})
    tokenizer.chat_template = None  # the processor's template is the model's chat format
    image_processor = CLIPImageProcessorPil(size={'shortest_edge': IMAGE_SIZE},
                                            crop_size={'height': IMAGE_SIZE, 'width': IMAGE_SIZE})
    return LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer,
                          patch_size=VISION_CONFIG['patch_size'], vision_feature_select_strategy='default',
                          num_additional_image_tokens=1, chat_template=LLAVA_1_5_CHAT_TEMPLATE)


def make_dir(path: str, text_config) -> str:
    """Write the tiny LLaVA (weights seeded per parameter name), its processor and generation config to `path`."""
    from transformers import CLIPVisionConfig, GenerationConfig, LlavaConfig, LlavaForConditionalGeneration
    from .tiny import ARCHS, _init_weights
    processor = build_processor()
    tokenizer = processor.tokenizer
    text_config.vocab_size = len(tokenizer)
    config = LlavaConfig(vision_config=CLIPVisionConfig(**VISION_CONFIG).to_dict(), text_config=text_config.to_dict(),
                         image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
                         vision_feature_select_strategy='default', vision_feature_layer=-2,
                         projector_hidden_act='gelu', tie_word_embeddings=text_config.tie_word_embeddings,
                         pad_token_id=tokenizer.pad_token_id)
    config.architectures = ['LlavaForConditionalGeneration']
    model = LlavaForConditionalGeneration(config).to(torch.float32)
    _init_weights(model)
    os.makedirs(path, exist_ok=True)
    model.save_pretrained(path)
    processor.save_pretrained(path)
    stop_ids = [tokenizer.convert_tokens_to_ids(t) for t in ARCHS['llama']['stop_tokens']]
    GenerationConfig(bos_token_id=text_config.bos_token_id, eos_token_id=stop_ids,
                     pad_token_id=tokenizer.pad_token_id).save_pretrained(path)
    return path
