"""Mistral-Instruct ([INST] ... [/INST]); Gemma 2/3 text (<start_of_turn>). Neither has a system role: the
system text goes in front of the first user message, as their official templates do."""
from typing import List

from ..base import Template
from ..constant import TemplateType
from ..meta import TemplateMeta
from ..register import register_template
from ..turns import fold_system


class SystemInQueryTemplate(Template):

    def _accepts_system(self) -> bool:
        return True

    def _conversation(self, row, mode):
        system, rounds = super()._conversation(row, mode)
        if self._is_chat(mode):
            system = fold_system(system, rounds)
        return system, rounds


class GemmaTemplate(SystemInQueryTemplate):
    """Gemma trims every user/assistant message (`| trim`)."""

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        return [{**m, 'content': (m.get('content') or '').strip()} if m['role'] in ('user', 'assistant') else m
                for m in messages]


register_template(
    TemplateMeta(
        TemplateType.mistral,
        prefix=[['bos_token_id']],
        prompt=['[INST] {{QUERY}} [/INST]'],
        chat_sep=[['eos_token_id']],
        suffix=[['eos_token_id']],
        template_cls=SystemInQueryTemplate))
register_template(
    TemplateMeta(
        TemplateType.gemma,
        prefix=[['bos_token_id']],
        prompt=['<start_of_turn>user\n{{QUERY}}<end_of_turn>\n<start_of_turn>model\n'],
        chat_sep=['<end_of_turn>\n'],
        suffix=['<end_of_turn>'],
        stop_words=['<end_of_turn>'],
        template_cls=GemmaTemplate))
