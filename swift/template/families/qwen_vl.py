"""Qwen2-VL / Qwen2.5-VL: ChatML with <|vision_start|><|image_pad|><|vision_end|> where each image goes."""
from ..constant import TemplateType
from ..register import register_template
from .qwen import QWEN_SYSTEM, chatml_meta

register_template(chatml_meta(TemplateType.qwen2_vl, default_system=QWEN_SYSTEM))
register_template(chatml_meta(TemplateType.qwen2_5_vl, default_system=QWEN_SYSTEM))
