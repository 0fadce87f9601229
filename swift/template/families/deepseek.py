"""DeepSeek: deepseek (deepseek-llm-chat), deepseek_v2_5 (DeepSeek-V2.5/V3), deepseek_r1 (R1 reasoning)."""
from typing import List

from ..base import Template
from ..constant import TemplateType
from ..meta import TemplateMeta
from ..register import register_template


class DeepseekTemplate(Template):
    """deepseek-llm renders 'Assistant: ' + response but prompts generation with 'Assistant:'."""

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        return [{**m, 'content': ' ' + (m.get('content') or '')} if m['role'] == 'assistant' else m
                for m in messages]


class DeepseekR1Template(Template):
    """Earlier turns lose their reasoning (text up to </think>); the trained turn keeps it."""

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        out = []
        for i, m in enumerate(messages):
            is_target = training and i == len(messages) - 1
            if m['role'] == 'assistant' and not is_target and '</think>' in (m.get('content') or ''):
                m = {**m, 'content': m['content'].split('</think>')[-1]}
            out.append(m)
        return out


def _v2_5_meta(template_type: str, **kwargs) -> TemplateMeta:
    return TemplateMeta(
        template_type,
        prefix=[['bos_token_id']],
        prompt=['<｜User｜>{{QUERY}}<｜Assistant｜>'],
        chat_sep=[['eos_token_id']],
        suffix=[['eos_token_id']],
        system_prefix=[['bos_token_id'], '{{SYSTEM}}'],
        **kwargs)


register_template(
    TemplateMeta(
        TemplateType.deepseek,
        prefix=[['bos_token_id']],
        prompt=['User: {{QUERY}}\n\nAssistant:'],
        chat_sep=[['eos_token_id']],
        suffix=[['eos_token_id']],
        system_prefix=[['bos_token_id'], '{{SYSTEM}}\n\n'],
        template_cls=DeepseekTemplate))
register_template(_v2_5_meta(TemplateType.deepseek_v2_5))
register_template(_v2_5_meta(TemplateType.deepseek_r1, response_prefix='<think>\n', template_cls=DeepseekR1Template))
