"""GLM-4 chat ([gMASK]<sop><|user|>\\n...<|assistant|>). The model writes '\\n' right after <|assistant|> and
ends its turn with <|user|> (or <|observation|> for a tool call)."""
from typing import List

from ..base import Template
from ..constant import TemplateType
from ..meta import TemplateMeta
from ..register import register_template


class GLM4Template(Template):

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        return [{**m, 'content': '\n' + (m.get('content') or '')} if m['role'] == 'assistant' else m
                for m in messages]


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
        template_cls=GLM4Template))
