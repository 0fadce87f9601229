"""Qwen2-VL / Qwen2.5-VL: ChatML with <|vision_start|><|image_pad|><|vision_end|> where each image goes (the
official chat template's rendering of an image content part), expanded by the model's processor."""
from ..constant import TemplateType
from ..multimodal import VisionTemplate
from ..register import register_template
from .qwen import QWEN_SYSTEM, QwenTemplate, chatml_meta


class Qwen2VLTemplate(VisionTemplate, QwenTemplate):
    image_placeholder = '<|vision_start|><|image_pad|><|vision_end|>'
    video_placeholder = '<|vision_start|><|video_pad|><|vision_end|>'


register_template(chatml_meta(TemplateType.qwen2_vl, default_system=QWEN_SYSTEM, template_cls=Qwen2VLTemplate))
register_template(chatml_meta(TemplateType.qwen2_5_vl, default_system=QWEN_SYSTEM, template_cls=Qwen2VLTemplate))
