"""Pure helpers that turn context items into text and token ids."""
import re
from typing import Dict, List, Optional, Tuple, Union

from swift.utils import TemplateError

from .pretokenized import PretokenizedEncoder

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


Runs = List[Tuple[int, float]]  # (token count, weight) of consecutive pieces: per-token weights, run-length coded


def tokenize(pieces: List[Tuple[Context, float]], tokenizer) -> Tuple[List[int], Runs]:
    return tokenize_batch([pieces], tokenizer)[0]


_ENCODERS: Dict[int, tuple] = {}  # id(backend) -> (backend, its state, PretokenizedEncoder or None)


def _pretokenized(backend):
    """The PretokenizedEncoder of a Rust tokenizer (None: not byte-level BPE), rebuilt when its pre-tokenizer,
    normalizer or added tokens change (e.g. new special tokens)."""
    state = (backend.pre_tokenizer.__getstate__() if backend.pre_tokenizer else None,
             backend.normalizer.__getstate__() if backend.normalizer else None, str(backend.get_added_tokens_decoder()),
             backend.encode_special_tokens)
    entry = _ENCODERS.get(id(backend))
    if entry is None or entry[0] is not backend or entry[1] != state:
        if len(_ENCODERS) >= 8:
            _ENCODERS.clear()
        entry = _ENCODERS[id(backend)] = (backend, state, PretokenizedEncoder.build(backend))
    return entry[2]


def _text_ids(texts: List[str], tokenizer) -> List[List[int]]:
    """Token ids of each text (as `tokenizer(text, add_special_tokens=False)`), in one call: byte-level BPE
    tokenizers through `PretokenizedEncoder`, others through the Rust tokenizer's batch call, which saves the
    per-call overhead of the Python wrapper."""
    if not texts:
        return []
    backend = getattr(tokenizer, '_tokenizer', None)
    if backend is None or not hasattr(backend, 'encode_batch'):
        return tokenizer(texts, add_special_tokens=False)['input_ids']
    encoder = _pretokenized(backend)
    if encoder is not None:
        return encoder.encode(texts)
    return [e.ids for e in backend.encode_batch(texts, add_special_tokens=False)]


def tokenize_batch(pieces_list: List[List[Tuple[Context, float]]], tokenizer) -> List[Tuple[List[int], Runs]]:
    """(ids, weight runs) of each row's pieces; every text piece of every row is tokenized on its own (as one call
    per piece would), but in a single batched call."""
    ids_of = iter(_text_ids([c for pieces in pieces_list for c, _ in pieces if isinstance(c, str)], tokenizer))
    out = []
    for pieces in pieces_list:
        input_ids, runs = [], []
        for content, weight in pieces:
            ids = next(ids_of) if isinstance(content, str) else content
            if ids:
                input_ids += ids
                runs.append((len(ids), weight))
        out.append((input_ids, runs))
    return out


def cut_runs(runs: Runs, start: int, stop: int) -> Runs:
    """The runs of tokens [start, stop)."""
    out, pos = [], 0
    for count, weight in runs:
        n = min(stop, pos + count) - max(start, pos)
        if n > 0:
            out.append((n, weight))
        pos += count
    return out


def labels_of(input_ids: List[int], runs: Runs) -> List[int]:
    """input_ids where the weight is positive, else -100."""
    labels, pos = [], 0
    for count, weight in runs:
        labels += input_ids[pos:pos + count] if weight > 0 else [-100] * count
        pos += count
    return labels


def to_text(pieces: List[Tuple[Context, float]], tokenizer) -> str:
    return ''.join(c if isinstance(c, str) else tokenizer.decode(c) for c, _ in pieces)
