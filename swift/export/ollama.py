"""An Ollama Modelfile whose Go TEMPLATE renders exactly our TemplateMeta (prefix, prompt, chat_sep, suffix)."""
import os
from typing import List, Optional

from swift.template.render import fill, token_values
from swift.utils import get_logger

logger = get_logger()
MODELFILE = 'Modelfile'
_GO_VALUES = {'SYSTEM': '{{ .System }}', 'QUERY': '{{ .Content }}', 'ROUND0': '{{ $i }}', 'ROUND1': '{{ $i }}'}


def _text(prompt, tokenizer, values: dict, bos_implicit: bool) -> str:
    """Context items as literal text; a leading bos is dropped when the GGUF tokenizer adds it itself."""
    parts = []
    for item in fill(prompt, {**token_values(tokenizer), **values}, tokenizer):
        ids = item if isinstance(item, list) else None
        if ids and bos_implicit and not parts and ids[:1] == [tokenizer.bos_token_id]:
            ids = ids[1:]
        parts.append(tokenizer.decode(ids) if ids is not None else item)
    text = ''.join(parts)
    if bos_implicit and tokenizer.bos_token and text.startswith(tokenizer.bos_token):
        text = text[len(tokenizer.bos_token):]
    return text


def go_template(template, bos_implicit: bool = True) -> str:
    """Ollama TEMPLATE (Go text/template over .System and .Messages) equivalent to `template` for chat turns."""
    meta, tok = template.template_meta, template.tokenizer
    if any('{{ROUND' in p for p in meta.prompt if isinstance(p, str)):
        logger.warning('Ollama templates cannot count rounds: {{ROUND0}}/{{ROUND1}} render the message index.')
    prefix = _text(meta.prefix, tok, {}, bos_implicit)
    system_prefix = _text(meta.system_prefix, tok, _GO_VALUES, bos_implicit) if meta.support_system else prefix
    prompt = _text(meta.prompt, tok, _GO_VALUES, False) + (meta.response_prefix or '')
    sep_suffix, sep_rest = meta.split_chat_sep()
    chat_sep = _text(sep_suffix, tok, {}, False) + _text(sep_rest, tok, {}, False)
    # No `{{-` trimming: it would eat the newlines our literal text ends with. A last assistant message stays
    # open (no separator) so that the model continues it.
    return (f'{{{{ if .System }}}}{system_prefix}{{{{ else }}}}{prefix}{{{{ end }}}}'
            '{{ range $i, $_ := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}'
            f'{{{{ if eq .Role "user" }}}}{prompt}'
            f'{{{{ else if eq .Role "assistant" }}}}{{{{ .Content }}}}{{{{ if not $last }}}}{chat_sep}{{{{ end }}}}'
            '{{ end }}{{ end }}')


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
