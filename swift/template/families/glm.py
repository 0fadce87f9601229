"""GLM-4 chat ([gMASK]<sop><|user|>\\n...<|assistant|>). The model writes '\\n' right after <|assistant|> and
ends its turn with <|user|> (or <|observation|> for a tool call)."""
from typing import List

from ..base import Template
from ..constant import TemplateType
from ..meta import TemplateMeta
from ..register import register_template


class GLM4Template(Template):

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        # a tool call's first line is the function name (the turn's metadata), not a newline
        return [{**m, 'content': '\n' + (m.get('content') or '')}
                if m['role'] == 'assistant' and not m.get('calls_only') else m for m in messages]

    def _format_tool_results(self, results: List[str]) -> str:
        return '<|observation|>\n'.join(results)


register_template(
    TemplateMeta(
        TemplateType.glm4,
        prefix=['[gMASK]<sop>'],
        prompt=['<|user|>\n{{QUERY}}<|assistant|>'],
        chat_sep=[],
        suffix=['<|user|>'],
        system_prefix=['[gMASK]<sop><|system|>\n{{SYSTEM}}'],
        stop_words=['<|endoftext|>', '<|user|>', '<|observation|>'],
        tool_prompt=['<|observation|>\n{{QUERY}}<|assistant|>'],
        default_tools_prompt='glm4',
        template_cls=GLM4Template))
