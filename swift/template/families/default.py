"""Generic templates: default (### Human/### Assistant), dummy/empty (plain text), jinja (tokenizer's own)."""
from ..constant import TemplateType
from ..jinja_backend import JinjaTemplate
from ..meta import TemplateMeta
from ..register import register_template

register_template(
    TemplateMeta(
        TemplateType.default,
        prefix=[],
        prompt=['### Human:\n{{QUERY}}\n\n### Assistant:\n'],
        chat_sep=[['eos_token_id'], '\n\n'],
        suffix=[['eos_token_id']],
        system_prefix=['{{SYSTEM}}\n\n']))
for _name in (TemplateType.dummy, TemplateType.empty):
    register_template(TemplateMeta(_name, prefix=[], prompt=['{{QUERY}}'], chat_sep=None))
register_template(
    TemplateMeta(
        TemplateType.jinja,
        prefix=[],
        prompt=['{{QUERY}}'],
        chat_sep=[],
        system_prefix=['{{SYSTEM}}'],
        template_cls=JinjaTemplate))
