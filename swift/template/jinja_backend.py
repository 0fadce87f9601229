"""The tokenizer's own Jinja chat template as a rendering backend.

`template_backend='jinja'` renders inference prompts with `tokenizer.apply_chat_template` (inference only).
The 'jinja' template type (a model with a chat template and no registered swift template) can also train:
the supervised spans are found by rendering with and without each assistant turn.
"""
from typing import Any, Dict, List, Optional

from swift.utils import TemplateError

from .base import Template
from .constant import ContextType
from .render import merge
from .tools import load_calls, parse_tools


def apply_chat_template(tokenizer, messages: List[dict], tools, add_generation_prompt: bool,
                        continue_final_message: bool = False, enable_thinking: Optional[bool] = None) -> str:
    if not getattr(tokenizer, 'chat_template', None):
        raise TemplateError('The tokenizer has no chat_template; use --template_backend swift with a --template.')
    extra = {} if enable_thinking is None else {'enable_thinking': enable_thinking}  # None: the template's default
    return tokenizer.apply_chat_template(messages, tools=parse_tools(tools) or None, tokenize=False,
                                         add_generation_prompt=add_generation_prompt,
                                         continue_final_message=continue_final_message, **extra)


def has_thinking_switch(tokenizer) -> bool:
    return 'enable_thinking' in (getattr(tokenizer, 'chat_template', None) or '')


def _chat_message(message: dict) -> dict:
    """A canonical message as chat templates expect it: no empty tool fields (templates test `'tool_calls' in
    message`), tool calls as a list."""
    out = {k: v for k, v in message.items() if v is not None and k != 'calls_only'}
    if out.get('tool_calls'):
        out['tool_calls'] = load_calls(out['tool_calls'])
    else:
        out.pop('tool_calls', None)
    return out


def _messages_with_system(template: Template, row: Dict[str, Any]) -> List[dict]:
    messages = [_chat_message(m) for m in row['messages']]
    if template.user_system is not None and (not messages or messages[0]['role'] != 'system'):
        messages.insert(0, {'role': 'system', 'content': template.user_system})
    return messages


def render_infer_text(template: Template, row: Dict[str, Any], mode: str) -> str:
    if mode != 'infer':
        raise TemplateError("template_backend 'jinja' is inference-only (it cannot mark the supervised tokens); "
                            'use --template_backend swift for training.')
    messages = _messages_with_system(template, row)
    if row.get('continue_final_message'):  # the last assistant message is a prefix to continue
        return apply_chat_template(template.tokenizer, messages, row.get('tools'), add_generation_prompt=False,
                                   continue_final_message=True, enable_thinking=template.enable_thinking)
    if messages and messages[-1]['role'] == 'assistant':
        messages.pop()
    return apply_chat_template(template.tokenizer, messages, row.get('tools'), add_generation_prompt=True,
                               enable_thinking=template.enable_thinking)


def _diff_contexts(tokenizer, messages: List[dict], tools, enable_thinking: Optional[bool] = None) -> List[tuple]:
    """(text, context_type, is_last_round) spans of the full render; assistant spans come from diffing the
    render up to the generation prompt with the render including that assistant turn."""
    targets = [i for i, m in enumerate(messages) if m['role'] == 'assistant']
    if not targets or targets[-1] != len(messages) - 1:
        raise TemplateError('A training row must end with an assistant message.')
    out, done = [], ''
    for k, i in enumerate(targets):
        last = k == len(targets) - 1
        prompt = apply_chat_template(tokenizer, messages[:i], tools, True, enable_thinking=enable_thinking)
        full = apply_chat_template(tokenizer, messages[:i + 1], tools, False, enable_thinking=enable_thinking)
        if not prompt.startswith(done) or not full.startswith(prompt):
            raise TemplateError('This chat template rewrites earlier turns, so the supervised spans cannot be '
                                'found; register a swift template for the model and pass --template.')
        out.append((prompt[len(done):], ContextType.OTHER, last))
        span = full[len(prompt):]
        body = span.rstrip()  # the newline after an end-of-turn token is template layout, not model output
        out += [(body, ContextType.RESPONSE, last), (span[len(body):], ContextType.OTHER, last)]
        done = full
    return out


class JinjaTemplate(Template):
    """Renders with the tokenizer's chat template for training and inference."""

    def _accepts_system(self) -> bool:
        return True

    def _has_thinking_switch(self) -> bool:
        return has_thinking_switch(self.tokenizer)

    def _pieces(self, row: Dict[str, Any], mode: str) -> List[tuple]:
        if mode == 'infer':
            return [(render_infer_text(self, row, 'infer'), 0.)]
        if not self._is_chat(mode):
            return super()._pieces(row, mode)
        contexts = _diff_contexts(self.tokenizer, _messages_with_system(self, row), row.get('tools'),
                                  self.enable_thinking)
        pieces = []
        for content, ctype, last in contexts:
            parts, weights = self._loss_scale_fn(content, ctype, last, query=None)
            pieces += list(zip(parts, weights))
        return merge(pieces)
