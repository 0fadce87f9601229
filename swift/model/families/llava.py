"""LLaVA (transformers' LlavaForConditionalGeneration, llava-hf checkpoints) and the offline `swift/tiny-llava`."""
from ..register import Model, ModelGroup, ModelMeta, register_model
from ..vision import get_model_tokenizer_multimodal

LLAVA_ARCHS = ['LlavaForConditionalGeneration']

register_model(
    ModelMeta('llava1_5_hf', [ModelGroup([Model('llava-hf/llava-1.5-7b-hf', 'llava-hf/llava-1.5-7b-hf'),
                                          Model('llava-hf/llava-1.5-13b-hf', 'llava-hf/llava-1.5-13b-hf')])],
              'llava1_5_hf', get_model_tokenizer_multimodal, model_arch='llava_hf', architectures=LLAVA_ARCHS,
              is_multimodal=True, tags=['vision']))

register_model(
    ModelMeta('tiny_llava', [ModelGroup([Model('swift/tiny-llava', 'swift/tiny-llava')])], 'llava1_5_hf',
              get_model_tokenizer_multimodal, model_arch='llava_hf', architectures=LLAVA_ARCHS, is_multimodal=True,
              tags=['vision', 'offline', 'test']))
