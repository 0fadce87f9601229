"""Phi-3 / Phi-3.5 (<|user|>...<|end|>) and Phi-4 (ChatML with <|im_sep|>)."""
from ..constant import TemplateType
from ..meta import TemplateMeta
from ..register import register_template

register_template(
    TemplateMeta(
        TemplateType.phi3,
        prefix=[],
        prompt=['<|user|>\n{{QUERY}}<|end|>\n<|assistant|>\n'],
        chat_sep=['<|end|>\n'],
        suffix=['<|end|>'],
        system_prefix=['<|system|>\n{{SYSTEM}}<|end|>\n'],
        end_layout=['\n', ['eos_token_id']],  # the official template ends a training text with eos
        stop_words=['<|end|>', '<|endoftext|>']))
register_template(
    TemplateMeta(
        TemplateType.phi4,
        prefix=[],
        prompt=['<|im_start|>user<|im_sep|>{{QUERY}}<|im_end|><|im_start|>assistant<|im_sep|>'],
        chat_sep=['<|im_end|>'],
        suffix=['<|im_end|>'],
        system_prefix=['<|im_start|>system<|im_sep|>{{SYSTEM}}<|im_end|>'],
        stop_words=['<|im_end|>', '<|endoftext|>']))
