"""Llama family: llama (Llama-2-chat), llama3 (Llama-3-Instruct), llama3_1 / llama3_2 (date lines in system)."""
import json
from datetime import datetime
from typing import List, Optional

from ..base import Template
from ..constant import TemplateType
from ..meta import TemplateMeta
from ..register import register_template
from ..tools import format_tools, llama3_tools_block, parse_tools


def _strip_contents(messages: List[dict], roles=('system', 'user', 'assistant')) -> List[dict]:
    return [{**m, 'content': (m.get('content') or '').strip()} if m['role'] in roles else m for m in messages]


class Llama2Template(Template):
    """Llama-2 renders ' ' + response.strip() + ' ' + eos; the leading space belongs to the response."""

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        messages = _strip_contents(messages, ('user', 'assistant'))
        return [{**m, 'content': ' ' + m['content']} if m['role'] == 'assistant' else m for m in messages]


class Llama3Template(Template):
    """Contents are trimmed (`| trim`); consecutive tool results are separate turns of the tool role."""

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        return _strip_contents(messages, ('system', 'user', 'assistant', 'tool'))

    def _format_tool_results(self, results: List[str]) -> str:
        return '<|eot_id|><|start_header_id|>tool<|end_header_id|>\n\n'.join(results)


class Llama3_1Template(Llama3Template):
    """The system turn is always present and starts with the knowledge-cutoff and date lines. With tools in
    Meta's format ('llama3'), it says 'Environment: ipython' and the schemas go in the first user message;
    tool results are ipython turns holding the JSON text of the result."""
    date_string: Optional[str] = '26 Jul 2024'  # Llama 3.1's fixed date

    def _preprocess_messages(self, messages: List[dict], training: bool) -> List[dict]:
        return _strip_contents(messages)

    def _meta_tools(self, tools) -> bool:
        return self.tools_prompt == 'llama3' and bool(parse_tools(tools))

    def _resolve_system(self, system: Optional[str], tools) -> Optional[str]:
        system = (self.default_system if system is None else system) or ''
        env = ''
        if self._meta_tools(tools):
            env = 'Environment: ipython\n'
        else:
            system = format_tools(tools, system.strip(), self.tools_prompt)
        date = self.date_string or datetime.now().strftime('%d %b %Y')
        return f'{env}Cutting Knowledge Date: December 2023\nToday Date: {date}\n\n{system.strip()}'

    def _conversation(self, row, mode):
        system, rounds = super()._conversation(row, mode)
        tools = row.get('tools')
        if self._is_chat(mode) and self._meta_tools(tools) and rounds and rounds[0].query_role == 'user':
            rounds[0].query = llama3_tools_block(parse_tools(tools)) + (rounds[0].query or '')
        return system, rounds

    def _format_tool_results(self, results: List[str]) -> str:
        return '<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n'.join(
            json.dumps(r, ensure_ascii=False) for r in results)


class Llama3_2Template(Llama3_1Template):
    date_string = None  # Llama 3.2 renders today's date (strftime_now)


LLAMA3_PROMPT = ('<|start_header_id|>{}<|end_header_id|>\n\n{{{{QUERY}}}}<|eot_id|>'
                 '<|start_header_id|>assistant<|end_header_id|>\n\n')


def llama3_meta(template_type: str, template_cls, tool_role: str = 'ipython', **kwargs) -> TemplateMeta:
    return TemplateMeta(
        template_type,
        prefix=[['bos_token_id']],
        prompt=[LLAMA3_PROMPT.format('user')],
        chat_sep=['<|eot_id|>'],
        suffix=['<|eot_id|>'],
        system_prefix=[['bos_token_id'], '<|start_header_id|>system<|end_header_id|>\n\n{{SYSTEM}}<|eot_id|>'],
        stop_words=['<|eot_id|>', '<|end_of_text|>'],
        tool_prompt=[LLAMA3_PROMPT.format(tool_role)],
        template_cls=template_cls,
        **kwargs)


register_template(
    TemplateMeta(
        TemplateType.llama,
        prefix=[['bos_token_id'], '[INST] '],
        prompt=['{{QUERY}} [/INST]'],
        chat_sep=[' ', ['eos_token_id'], ['bos_token_id'], '[INST] '],
        suffix=[' ', ['eos_token_id']],
        system_prefix=[['bos_token_id'], '[INST] <<SYS>>\n{{SYSTEM}}\n<</SYS>>\n\n'],
        template_cls=Llama2Template))
register_template(llama3_meta(TemplateType.llama3, Llama3Template, 'tool'))  # no tool format of its own
register_template(llama3_meta(TemplateType.llama3_1, Llama3_1Template, default_tools_prompt='llama3'))
register_template(llama3_meta(TemplateType.llama3_2, Llama3_2Template, default_tools_prompt='llama3'))
