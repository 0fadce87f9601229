"""An Ollama Modelfile whose Go TEMPLATE renders exactly what our template renders for inference.

The TEMPLATE is cut out of `Template.render_text(mode='infer')` renders of probe conversations (family code
included), then checked against further probes; a template whose family code a Go TEMPLATE of this shape cannot
express (e.g. a system prompt moved into the last user turn, round counters) is refused in one line.
"""
import copy
import os
from typing import Dict, List, Optional

from swift.utils import SwiftError, TemplateError, get_logger

logger = get_logger()
MODELFILE = 'Modelfile'
_S, _U1, _A1, _U2 = 'SYSTEMXQZ', 'USERONEXQZ', 'ANSWERONEXQZ', 'USERTWOXQZ'
_PROBES = [
    (None, [('user', 'Hi')]),
    ('Be brief.', [('user', 'Hi')]),
    (None, [('user', 'Hi'), ('assistant', 'Hello!'), ('user', 'Name a color.')]),
    ('Be brief.', [('user', 'a'), ('assistant', 'b'), ('user', 'c'), ('assistant', 'd'), ('user', 'e')]),
]


def _split(text: str, marks: List[str]) -> List[str]:
    parts = []
    for mark in marks:
        if text.count(mark) != 1:
            raise ValueError(mark)
        head, text = text.split(mark)
        parts.append(head)
    return parts + [text]


def _render(template, system: Optional[str], messages) -> str:
    row = {'messages': ([{'role': 'system', 'content': system}] if system is not None else []) +
           [{'role': r, 'content': c} for r, c in messages]}
    if system is None:  # a conversation without any system: not even the template's default
        template = copy.copy(template)
        template.default_system = None
    return template.render_text(row, mode='infer')


def _pieces(template, bos_implicit: bool) -> Dict[str, str]:
    """The literal text around each value: head (with and without a system), after a user turn in the history
    and after the last one (the generation prompt), between turns."""
    turns = [('user', _U1), ('assistant', _A1), ('user', _U2)]
    plain = _split(_render(template, None, turns), [_U1, _A1, _U2])
    pieces = {'head': plain[0], 'after_user': plain[1], 'between': plain[2], 'generation_prompt': plain[3]}
    if template._accepts_system():
        with_system = _split(_render(template, _S, turns), [_S, _U1, _A1, _U2])
        pieces.update(system_head=with_system[0], system_tail=with_system[1])
    bos = template.tokenizer.bos_token
    if bos_implicit and bos:  # the GGUF tokenizer adds bos itself (tokenizer.ggml.add_bos_token)
        for key in ('system_head', 'head'):
            if pieces.get(key, '').startswith(bos):
                pieces[key] = pieces[key][len(bos):]
    return pieces


def render_pieces(pieces: Dict[str, str], system: Optional[str], messages) -> str:
    """What the Go TEMPLATE below renders, in Python (for the self-check)."""
    with_system = system and 'system_head' in pieces
    out = pieces['system_head'] + system + pieces['system_tail'] if with_system else pieces['head']
    prev = ''
    for i, (role, content) in enumerate(messages):
        if role == 'user':
            last = i == len(messages) - 1
            out += ((pieces['between'] if prev == 'assistant' else '') + content +
                    pieces['generation_prompt' if last else 'after_user'])
        elif role == 'assistant':
            out += content
        prev = role
    return out


def go_template(template, bos_implicit: bool = True) -> str:
    """Ollama TEMPLATE (Go text/template over .System and .Messages) equal to `template` for chat turns."""
    name = template.template_meta.template_type
    refusal = (f'--to_ollama: the {name!r} template cannot be written as an Ollama TEMPLATE ({{}}); serve the '
               'exported model with `swift deploy` or write the Modelfile TEMPLATE by hand.')
    try:
        pieces = _pieces(template, bos_implicit)
    except ValueError as e:
        raise SwiftError(refusal.format(f'its render changes the message text {e}')) from None
    except TemplateError as e:
        raise SwiftError(refusal.format(str(e).rstrip('.'))) from None
    for system, messages in _PROBES:
        if system and not template._accepts_system():
            continue
        expected = _render(template, system, messages)
        bos = template.tokenizer.bos_token
        if bos_implicit and bos and expected.startswith(bos):
            expected = expected[len(bos):]
        if render_pieces(pieces, system, messages) != expected:
            raise SwiftError(refusal.format('its family code places turns differently for '
                                            f'{len(messages)} messages{" with a system" if system else ""}'))
    head = pieces['head']
    if 'system_head' in pieces:
        head = (f'{{{{ if .System }}}}{pieces["system_head"]}{{{{ .System }}}}{pieces["system_tail"]}'
                f'{{{{ else }}}}{head}{{{{ end }}}}')
    return (f'{{{{ $prev := "" }}}}{head}'
            '{{ range $i, $_ := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}'
            f'{{{{ if eq .Role "user" }}}}{{{{ if eq $prev "assistant" }}}}{pieces["between"]}{{{{ end }}}}'
            f'{{{{ .Content }}}}{{{{ if $last }}}}{pieces["generation_prompt"]}{{{{ else }}}}{pieces["after_user"]}'
            '{{ end }}{{ else if eq .Role "assistant" }}{{ .Content }}{{ end }}{{ $prev = .Role }}{{ end }}')


def _quote(text: str) -> str:
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'


def modelfile_text(template, source: str, system: Optional[str] = None,
                   stop_words: Optional[List[str]] = None) -> str:
    lines = [f'FROM {source}', f'TEMPLATE """{go_template(template)}"""']
    system = system if system is not None else template.default_system
    if system:
        lines.append(f'SYSTEM """{system}"""')
    for word in stop_words if stop_words is not None else template.stop_words:
        lines.append(f'PARAMETER stop {_quote(word)}')
    return '\n'.join(lines) + '\n'


def write_modelfile(template, output_dir: str, source: str) -> str:
    """output_dir/Modelfile; `source` is './model.gguf', '.' (safetensors next to it) or a model directory."""
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, MODELFILE)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(modelfile_text(template, source))
    logger.info(f'Wrote {path}: run `ollama create <name> -f {path}`.')
    return path
