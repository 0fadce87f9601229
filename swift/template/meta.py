"""TemplateMeta: the declarative description of a chat format (ms-swift 3.x field names and semantics).

A "prompt" is a list of context items: strings with placeholders ({{SYSTEM}}, {{QUERY}}, {{ROUND0}},
{{ROUND1}}, {{bos_token}}, {{eos_token}}) or token lists (ints or tokenizer attribute names such as
'bos_token_id').
"""
from copy import deepcopy
from dataclasses import dataclass, field
from typing import List, Optional, Tuple, Type, Union

from swift.utils import TemplateError

from .base import Template

Prompt = List[Union[str, List[Union[int, str]]]]


def _has_system(prompt: Optional[Prompt]) -> bool:
    return bool(prompt) and any(isinstance(p, str) and '{{SYSTEM}}' in p for p in prompt)


def _remove_system(prompt: Prompt) -> Prompt:
    return [p.replace('{{SYSTEM}}', '') if isinstance(p, str) else p for p in prompt]


@dataclass
class TemplateMeta:
    template_type: str
    prefix: Prompt
    prompt: Prompt
    chat_sep: Optional[Prompt]
    suffix: Prompt = field(default_factory=lambda: [['eos_token_id']])
    template_cls: Type[Template] = Template
    system_prefix: Optional[Prompt] = None
    default_system: Optional[str] = None
    response_prefix: str = ''  # appended to the generation prompt (inference only), e.g. '<think>\n'
    # the generation prompt's ending with --enable_thinking false (Qwen3: an empty think block); '' = no switch
    non_thinking_prefix: str = ''
    auto_add_bos: bool = False
    stop_words: List[str] = field(default_factory=list)
    placeholder_tokens: List[Union[int, str]] = field(default_factory=list)
    tool_prompt: Optional[Prompt] = None  # prompt for a 'tool' turn; None: `prompt` with 'Observation: ...'
    default_tools_prompt: str = 'react_en'
    # unsupervised text the official template writes after the last turn of a training text; None: what
    # chat_sep adds after the suffix when that is only whitespace (the '\n' after ChatML's <|im_end|>)
    end_layout: Optional[Prompt] = None

    def __post_init__(self):
        for name in ('prefix', 'prompt', 'chat_sep', 'suffix', 'system_prefix', 'tool_prompt', 'end_layout'):
            value = getattr(self, name)
            if value is not None and not isinstance(value, list):
                raise TemplateError(f'TemplateMeta {self.template_type!r}: {name} must be a list of context items, '
                                    f'got {type(value).__name__}.')
            setattr(self, name, deepcopy(value))
        if not any(isinstance(p, str) and '{{QUERY}}' in p for p in self.prompt):
            raise TemplateError(f'TemplateMeta {self.template_type!r}: prompt must contain {{{{QUERY}}}}.')
        if _has_system(self.prefix):
            if self.system_prefix is not None:
                raise TemplateError(f'TemplateMeta {self.template_type!r}: give {{{{SYSTEM}}}} either in prefix '
                                    'or in system_prefix, not both.')
            self.system_prefix = self.prefix
            self.prefix = _remove_system(self.prefix)
        if self.default_system is not None and not self.support_system:
            raise TemplateError(f'TemplateMeta {self.template_type!r} has a default_system but no {{{{SYSTEM}}}} '
                                'slot: add system_prefix.')
        self.stop_words = list(self.stop_words)

    @property
    def support_system(self) -> bool:
        return self.system_prefix is not None

    @property
    def support_multi_round(self) -> bool:
        return self.chat_sep is not None

    def split_chat_sep(self) -> Tuple[Prompt, Prompt]:
        """Split chat_sep into (the part equal to suffix, the rest) so the end-of-turn is supervised per round."""
        sep, suffix = self.chat_sep or [], self.suffix
        n = len(suffix)
        if n == 0 or len(sep) < n or sep[:n - 1] != suffix[:n - 1]:
            return [], list(sep)
        last, item = suffix[-1], sep[n - 1]
        if item == last:
            return list(suffix), list(sep[n:])
        if isinstance(last, str) and isinstance(item, str) and item.startswith(last):
            return list(suffix), [item[len(last):]] + list(sep[n:])
        return [], list(sep)

    def final_layout(self) -> Prompt:
        if self.end_layout is not None:
            return list(self.end_layout)
        suffix, rest = self.split_chat_sep()
        if suffix and all(isinstance(p, str) and not p.strip() for p in rest):
            return list(rest)
        return []

    def to_generate_meta(self) -> 'TemplateMeta':
        """The plain-text template used by `swift pt` / use_chat_template=False."""
        return TemplateMeta(f'{self.template_type}:generate', prefix=[], prompt=['{{QUERY}}'], chat_sep=[],
                            end_layout=[], system_prefix=['{{SYSTEM}}'], auto_add_bos=self.auto_add_bos,
                            stop_words=list(self.stop_words))
