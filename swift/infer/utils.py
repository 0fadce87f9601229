"""Helpers shared by the engines: incremental detokenisation, stop handling, logprob entries."""
from typing import Dict, List, Optional, Sequence, Set

REPLACEMENT_CHAR = '\ufffd'


class IncrementalDecoder:
    """Token-by-token text that never splits a multi-byte character: a piece that decodes to a trailing U+FFFD
    (an incomplete UTF-8 sequence) is held back until the next token completes it (the vLLM/TGI scheme)."""

    def __init__(self, tokenizer, skip_special_tokens: bool = False):
        self.tokenizer = tokenizer
        self.skip_special_tokens = skip_special_tokens
        self.ids: List[int] = []
        self.text = ''
        self._prefix_offset = 0
        self._read_offset = 0

    def _decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=self.skip_special_tokens)

    def step(self, token_id: int) -> str:
        """Add one token; return the newly completed text (possibly '')."""
        self.ids.append(token_id)
        prefix = self._decode(self.ids[self._prefix_offset:self._read_offset])
        new = self._decode(self.ids[self._prefix_offset:])
        if len(new) > len(prefix) and not new.endswith(REPLACEMENT_CHAR):
            delta = new[len(prefix):]
            self._prefix_offset, self._read_offset = self._read_offset, len(self.ids)
            self.text += delta
            return delta
        return ''

    def flush(self) -> str:
        """Whatever is still held back (an incomplete character at the very end decodes as U+FFFD)."""
        prefix = self._decode(self.ids[self._prefix_offset:self._read_offset])
        new = self._decode(self.ids[self._prefix_offset:])
        delta = new[len(prefix):] if len(new) > len(prefix) else ''
        self._prefix_offset = self._read_offset = len(self.ids)
        self.text += delta
        return delta


def find_stop(text: str, stop_words: Sequence[str], start: int = 0) -> Optional[int]:
    """End index of the first stop word found in text[start:] (the stop word is kept), else None."""
    best = None
    for word in stop_words:
        i = text.find(word, start)
        if i >= 0 and (best is None or i + len(word) < best):
            best = i + len(word)
    return best


def end_token_ids(tokenizer, template, generation_config=None) -> Set[int]:
    """Token ids that end generation and are removed from the output: the eos token(s) of the tokenizer and
    generation_config, and the template's stop words that are single special tokens (e.g. <|im_end|>)."""
    ids = set()
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    eos = getattr(generation_config, 'eos_token_id', None)
    ids.update(eos if isinstance(eos, (list, tuple)) else ([eos] if eos is not None else []))
    special = set(getattr(tokenizer, 'all_special_tokens', []) or [])
    special |= {str(t) for t in (getattr(tokenizer, 'added_tokens_decoder', None) or {}).values()
                if getattr(t, 'special', False)}
    for word in template.stop_words:
        if word in special:
            token_id = tokenizer.convert_tokens_to_ids(word)
            if isinstance(token_id, int) and token_id != tokenizer.unk_token_id:
                ids.add(token_id)
    return ids


def text_stop_words(template, end_ids: Set[int], extra: Optional[Sequence[str]] = None) -> List[str]:
    """Stop strings checked on the decoded text (kept in the output): the template's stop words that are not
    end tokens, plus the request's."""
    tok = template.tokenizer
    words = [w for w in template.stop_words if tok.convert_tokens_to_ids(w) not in end_ids or
             len(tok.encode(w, add_special_tokens=False)) != 1]
    words += [w for w in (extra or []) if w]
    return list(dict.fromkeys(words))


def logprob_entry(tokenizer, token_id: int, logprob: float, top: Optional[List[tuple]] = None) -> Dict:
    """One OpenAI chat logprobs entry: token text, logprob, UTF-8 bytes and the top alternatives."""
    entry = _token_logprob(tokenizer, token_id, logprob)
    entry['top_logprobs'] = [_token_logprob(tokenizer, t, lp) for t, lp in (top or [])]
    return entry


def _token_logprob(tokenizer, token_id: int, logprob: float) -> Dict:
    token = tokenizer.decode([token_id], skip_special_tokens=False)
    return {'token': token, 'logprob': logprob, 'bytes': list(token.encode('utf-8'))}
