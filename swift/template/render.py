"""Pure helpers that turn context items into text and token ids."""
import re
from typing import Dict, List, Optional, Tuple, Union

from swift.utils import TemplateError

Context = Union[str, List[int]]
_PLACEHOLDER = re.compile(r'\{\{(SYSTEM|QUERY|ROUND0|ROUND1|bos_token|eos_token)\}\}')


def substitute(text: str, values: Dict[str, str]) -> str:
    """Fill placeholders in one pass, so message content that contains '{{...}}' is never re-expanded."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def token_values(tokenizer) -> Dict[str, str]:
    return {'bos_token': tokenizer.bos_token or '', 'eos_token': tokenizer.eos_token or ''}


def resolve_token_list(item: list, tokenizer) -> List[int]:
    """[1, 2] or ['bos_token_id'] -> ids; an attribute the tokenizer lacks (no bos) renders nothing."""
    ids = []
    for token in item:
        if isinstance(token, int):
            ids.append(token)
        elif isinstance(token, str) and token.endswith('_token_id'):
            value = getattr(tokenizer, token, None)
            if isinstance(value, list):
                value = value[0] if value else None
            if value is not None:
                ids.append(value)
        elif isinstance(token, str):
            token_id = tokenizer.convert_tokens_to_ids(token)
            if token_id is None or token_id == tokenizer.unk_token_id:
                raise TemplateError(f'Token {token!r} of the template is not in the tokenizer vocabulary.')
            ids.append(token_id)
        else:
            raise TemplateError(f'Template token lists hold ints or names, got {token!r}.')
    return ids


def fill(prompt: Optional[list], values: Dict[str, str], tokenizer) -> List[Context]:
    """A prompt (context list) with placeholders filled and token lists resolved to ids."""
    out = []
    for item in prompt or []:
        if isinstance(item, str):
            text = substitute(item, values)
            if text:
                out.append(text)
        elif isinstance(item, list):
            ids = resolve_token_list(item, tokenizer)
            if ids:
                out.append(ids)
        else:
            raise TemplateError(f'A template context item must be a string or a token list, got {item!r}.')
    return out


def merge(pieces: List[Tuple[Context, float]]) -> List[Tuple[Context, float]]:
    """Join neighbouring strings of equal weight so they are tokenized as one text (as a chat template would be)."""
    out: List[Tuple[Context, float]] = []
    for content, weight in pieces:
        if out and isinstance(content, str) and isinstance(out[-1][0], str) and out[-1][1] == weight:
            out[-1] = (out[-1][0] + content, weight)
        elif content != '' and content != []:
            out.append((content, weight))
    return out


def tokenize(pieces: List[Tuple[Context, float]], tokenizer) -> Tuple[List[int], List[float]]:
    return tokenize_batch([pieces], tokenizer)[0]


def _text_ids(texts: List[str], tokenizer) -> List[List[int]]:
    """Token ids of each text, in one call: the Rust tokenizer encodes a batch in parallel, and one call saves
    the per-call overhead of the Python wrapper (which itself calls `encode_batch`)."""
    if not texts:
        return []
    backend = getattr(tokenizer, '_tokenizer', None)
    if backend is not None and hasattr(backend, 'encode_batch'):
        return [e.ids for e in backend.encode_batch(texts, add_special_tokens=False)]
    return tokenizer(texts, add_special_tokens=False)['input_ids']


def tokenize_batch(pieces_list: List[List[Tuple[Context, float]]],
                   tokenizer) -> List[Tuple[List[int], List[float]]]:
    """(ids, weights) of each row's pieces; every text piece of every row is tokenized on its own (as one call
    per piece would), but in a single batched call."""
    ids_of = iter(_text_ids([c for pieces in pieces_list for c, _ in pieces if isinstance(c, str)], tokenizer))
    out = []
    for pieces in pieces_list:
        input_ids, weights = [], []
        for content, weight in pieces:
            ids = next(ids_of) if isinstance(content, str) else content
            input_ids.extend(ids)
            weights.extend([weight] * len(ids))
        out.append((input_ids, weights))
    return out


def to_text(pieces: List[Tuple[Context, float]], tokenizer) -> str:
    return ''.join(c if isinstance(c, str) else tokenizer.decode(c) for c, _ in pieces)
