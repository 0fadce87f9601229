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


class DeepseekV2_5Template(Template):
    """Tool results sit in one <｜tool▁outputs▁begin｜> block, one <｜tool▁output▁begin｜> entry each; the answer
    after them follows without a new <｜Assistant｜>."""
    output_sep = '\n'

    def _format_tool_results(self, results: List[str]) -> str:
        return self.output_sep.join(f'<｜tool▁output▁begin｜>{r}<｜tool▁output▁end｜>' for r in results)


class DeepseekR1Template(DeepseekV2_5Template):
    """Earlier turns lose their reasoning (text up to </think>); the trained turn, tool-call turns and answers
    to tool outputs keep it, as the official template renders them."""
    output_sep = ''

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        out = []
        for i, m in enumerate(messages):
            is_target = training and i == len(messages) - 1
            after_tool = i > 0 and messages[i - 1]['role'] == 'tool'
            if (m['role'] == 'assistant' and not is_target and 'calls_only' not in m and not after_tool
                    and '</think>' in (m.get('content') or '')):
                m = {**m, 'content': m['content'].split('</think>')[-1]}
            out.append(m)
        return out


def _v2_5_meta(template_type: str, **kwargs) -> TemplateMeta:
    kwargs.setdefault('template_cls', DeepseekV2_5Template)
    return TemplateMeta(
        template_type,
        prefix=[['bos_token_id']],
        prompt=['<｜User｜>{{QUERY}}<｜Assistant｜>'],
        chat_sep=[['eos_token_id']],
        suffix=[['eos_token_id']],
        system_prefix=[['bos_token_id'], '{{SYSTEM}}'],
        tool_prompt=['<｜tool▁outputs▁begin｜>{{QUERY}}<｜tool▁outputs▁end｜>'],
        default_tools_prompt='deepseek',
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
