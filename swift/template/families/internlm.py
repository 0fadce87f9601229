"""InternLM2 chat: ChatML after a bos token."""
from ..constant import TemplateType
from ..meta import TemplateMeta
from ..register import register_template

register_template(
    TemplateMeta(
        TemplateType.internlm2,
        prefix=[['bos_token_id']],
        prompt=['<|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n'],
        chat_sep=['<|im_end|>\n'],
        suffix=['<|im_end|>'],
        system_prefix=[['bos_token_id'], '<|im_start|>system\n{{SYSTEM}}<|im_end|>\n'],
        stop_words=['<|im_end|>']))
