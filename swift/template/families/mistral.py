"""Mistral-Instruct ([INST] ... [/INST]); Gemma 2/3 text (<start_of_turn>). Neither has a system role: the
system text goes in front of the first user message, as their official templates do."""
from typing import List

from ..base import Template
from ..constant import TemplateType
from ..meta import TemplateMeta
from ..register import register_template
from ..tools import mistral_tools_block, parse_tools
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


class MistralNemoTemplate(Template):
    """Mistral Nemo: the system text goes in front of the last user message when that message ends the
    conversation (so a training text has none, as the official template), [AVAILABLE_TOOLS] in front of the
    last user turn, tool results as [TOOL_RESULTS]{"content", "call_id"}[/TOOL_RESULTS]."""

    def _accepts_system(self) -> bool:
        return True

    def _resolve_system(self, system, tools):
        return self.default_system if system is None else system

    def _conversation(self, row, mode):
        system, rounds = super()._conversation(row, mode)
        if not self._is_chat(mode):
            return system, rounds
        users = [r for r in rounds if r.query_role == 'user' and r.query is not None]
        tools = parse_tools(row.get('tools'))
        for r in users:
            head = mistral_tools_block(tools) if tools and r is users[-1] else ''
            text = f'{system}\n\n{r.query}' if system and r is rounds[-1] and r.response is None else r.query
            r.query = f'{head}[INST]{text}'
        return None, rounds

    def _tool_query(self, r) -> str:
        return ''.join(f'[TOOL_RESULTS]{{"content": {m.get("content") or ""}, '
                       f'"call_id": "{m.get("tool_call_id") or ""}"}}[/TOOL_RESULTS]' for m in r.tool_messages)


register_template(
    TemplateMeta(
        TemplateType.mistral_nemo,
        prefix=[['bos_token_id']],
        prompt=['{{QUERY}}[/INST]'],
        chat_sep=[['eos_token_id']],
        suffix=[['eos_token_id']],
        tool_prompt=['{{QUERY}}'],
        default_tools_prompt='mistral',
        template_cls=MistralNemoTemplate))
register_template(
    TemplateMeta(
        TemplateType.gemma,
        prefix=[['bos_token_id']],
        prompt=['<start_of_turn>user\n{{QUERY}}<end_of_turn>\n<start_of_turn>model\n'],
        chat_sep=['<end_of_turn>\n'],
        suffix=['<end_of_turn>'],
        stop_words=['<end_of_turn>'],
        template_cls=GemmaTemplate))
