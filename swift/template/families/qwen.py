"""ChatML family: chatml, qwen (Qwen1.5/2), qwen2_5, qwen3, yi."""
from typing import List

from ..base import Template
from ..constant import TemplateType
from ..meta import TemplateMeta
from ..register import register_template

QWEN_SYSTEM = 'You are a helpful assistant.'
QWEN2_5_SYSTEM = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.'


class QwenTemplate(Template):
    """Tool results go back as a user turn of <tool_response> blocks, as the Qwen2.5 chat template does."""

    def _format_tool_results(self, results: List[str]) -> str:
        return '\n'.join(f'<tool_response>\n{r}\n</tool_response>' for r in results)


def split_thinking(content: str):
    """(reasoning, answer) the way the Qwen3 chat template splits an assistant message on </think>."""
    if '</think>' not in content:
        return '', content
    reasoning = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n')
    return reasoning, content.split('</think>')[-1].lstrip('\n')


def _is_query(message: dict) -> bool:
    content = message.get('content') or ''
    return message['role'] == 'user' and not (content.startswith('<tool_response>')
                                              and content.endswith('</tool_response>'))


class Qwen3Template(QwenTemplate):
    """Thinking is dropped from turns before the last user query; turns after it (and the trained turn) carry
    a <think> block, as the official Qwen3 template renders them."""

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        queries = [i for i, m in enumerate(messages) if _is_query(m)]
        last_query = queries[-1] if queries else len(messages) - 1
        out = []
        for i, message in enumerate(messages):
            if message['role'] == 'assistant':
                reasoning, answer = split_thinking(message.get('content') or '')
                if i > last_query and (i == len(messages) - 1 or reasoning):
                    answer = f"<think>\n{reasoning.strip(chr(10))}\n</think>\n\n{answer.lstrip(chr(10))}"
                message = {**message, 'content': answer}
            out.append(message)
        return out


def chatml_meta(template_type: str, **kwargs) -> TemplateMeta:
    kwargs.setdefault('template_cls', QwenTemplate)
    return TemplateMeta(
        template_type,
        prefix=[],
        prompt=['<|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n'],
        chat_sep=['<|im_end|>\n'],
        suffix=['<|im_end|>'],
        system_prefix=['<|im_start|>system\n{{SYSTEM}}<|im_end|>\n'],
        auto_add_bos=True,
        stop_words=['<|endoftext|>'],
        tool_prompt=['<|im_start|>user\n{{QUERY}}<|im_end|>\n<|im_start|>assistant\n'],
        **kwargs)


register_template(chatml_meta(TemplateType.chatml))
register_template(chatml_meta(TemplateType.yi))
register_template(chatml_meta(TemplateType.qwen, default_system=QWEN_SYSTEM))
register_template(chatml_meta(TemplateType.qwen2_5, default_system=QWEN2_5_SYSTEM, default_tools_prompt='hermes'))
register_template(chatml_meta(TemplateType.qwen3, template_cls=Qwen3Template, default_tools_prompt='hermes',
                              non_thinking_prefix='<think>\n\n</think>\n\n'))
