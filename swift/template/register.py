"""The template registry and `get_template`."""
from typing import Optional

from swift.utils import Registry, TemplateError

from .base import Template
from .meta import TemplateMeta

TEMPLATE_MAPPING: Registry = Registry('template')


def register_template(template_meta: TemplateMeta, *, exist_ok: bool = False) -> TemplateMeta:
    if not isinstance(template_meta, TemplateMeta):
        raise TemplateError(f'register_template expects a TemplateMeta, got {type(template_meta).__name__}.')
    try:
        return TEMPLATE_MAPPING.register(template_meta.template_type, template_meta, exist_ok=exist_ok)
    except ValueError as e:
        raise TemplateError(str(e)) from None


def get_template_meta(template_type: str) -> TemplateMeta:
    try:
        return TEMPLATE_MAPPING.get(template_type)
    except KeyError as e:
        raise TemplateError(f'{e.args[0]} Pass --template with a registered name.') from None


def get_template(template_type: str, tokenizer, default_system: Optional[str] = None,
                 max_length: Optional[int] = None, *, truncation_strategy: str = 'delete',
                 loss_scale: str = 'default', use_chat_template: bool = True, padding_side: str = 'right',
                 template_backend: str = 'swift', tools_prompt: Optional[str] = None,
                 max_pixels: Optional[int] = None, enable_thinking: Optional[bool] = None) -> Template:
    """tools_prompt None: the family's official agent format (TemplateMeta.default_tools_prompt), else react_en."""
    meta = get_template_meta(template_type)
    return meta.template_cls(tokenizer, meta, default_system, max_length,
                             truncation_strategy=truncation_strategy, loss_scale=loss_scale,
                             use_chat_template=use_chat_template, padding_side=padding_side,
                             template_backend=template_backend, tools_prompt=tools_prompt, max_pixels=max_pixels,
                             enable_thinking=enable_thinking)
