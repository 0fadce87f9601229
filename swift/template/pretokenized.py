"""Token ids of many texts with every distinct pre-token merged once, for byte-level BPE tokenizers.

A byte-level BPE tokenizer (GPT-2, Qwen, Llama 3) splits text at its added tokens, normalizes (NFC or nothing),
cuts each part into pre-tokens with one regex, and runs BPE on each pre-token by itself: the ids of a text are the
concatenation of the ids of its pre-tokens. So the regex can run here (the `regex` module) and each distinct
pre-token needs the Rust BPE only once; the Rust tokenizer's own per-call work (offsets, word ids, special-token
masks) costs far more than the merges on real text, where words repeat. Tokenizers of any other shape, and texts
with a character that a probe shows is treated differently here than in Rust, go through the Rust tokenizer.
"""
import json
import unicodedata
from itertools import chain
from typing import Dict, List, Optional

import regex

# The regex of ByteLevel(use_regex=True) (tokenizers' pre_tokenizers/byte_level.rs).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_MAX_CACHED_CHARS = 64  # longer pre-tokens rarely repeat
_MAX_ENTRIES = 100_000  # bounds the cache (~1 KB an entry) on data with many distinct words
# Each new non-ASCII character c is checked by encoding these texts both ways: they put c next to letters, digits,
# spaces, newlines, punctuation and combining marks, so a difference in its regex classes or normalization shows.
_PROBES = ('{c}', 'a{c}b', '{c}{c}1', ' {c}', '{c} a', "'{c}", '1{c}1', '\n{c}\n', '{c}\n\n', '.{c}.',
           'a{c}\u0301', 'a\u0301{c}', 'a{c}\u0316', 'a\u0316{c}', '{c}\u0308')
_BYTE_LEVEL = {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False}


def _pattern(pre_tokenizer: Optional[dict]) -> Optional[str]:
    """The pre-token regex of a byte-level pre-tokenizer we can reproduce, else None."""
    if not pre_tokenizer:
        return None
    kind = pre_tokenizer.get('type')
    if kind == 'ByteLevel':
        return GPT2_PATTERN if pre_tokenizer.get('use_regex', True) and not pre_tokenizer.get(
            'add_prefix_space') else None
    if kind != 'Sequence' or len(pre_tokenizer.get('pretokenizers') or []) != 2:
        return None
    split, byte_level = pre_tokenizer['pretokenizers']
    if byte_level.get('type') != 'ByteLevel' or byte_level.get('use_regex') or byte_level.get('add_prefix_space'):
        return None
    if split.get('type') != 'Split' or split.get('behavior') != 'Isolated' or split.get('invert'):
        return None
    return (split.get('pattern') or {}).get('Regex')


class PretokenizedEncoder:
    """`encode(texts) -> ids of each text`, equal to the Rust tokenizer's `encode(text, add_special_tokens=False)`."""

    def __init__(self, backend, config: dict, pattern: str):
        from tokenizers import Tokenizer
        self.backend = backend
        self.nfc = config.get('normalizer') is not None
        self.words = regex.compile(pattern)
        added = sorted((t['content'] for t in config['added_tokens']), key=len, reverse=True)
        self.added = regex.compile('(' + '|'.join(regex.escape(t) for t in added) + ')') if added else None
        self.added_ids = {t['content']: [t['id']] for t in config['added_tokens']}
        bpe_only = {**config, 'normalizer': None, 'pre_tokenizer': _BYTE_LEVEL, 'post_processor': None,
                    'added_tokens': [], 'truncation': None, 'padding': None}
        self.bpe = Tokenizer.from_str(json.dumps(bpe_only))  # one pre-token in, its BPE ids out
        self.cache: Dict[str, List[int]] = dict(self.added_ids)
        self.checked: set = set()
        self.bad: set = set()

    @classmethod
    def build(cls, backend) -> Optional['PretokenizedEncoder']:
        """The encoder of a Rust `tokenizers.Tokenizer`, or None when its pipeline is not one reproduced here."""
        config = json.loads(backend.to_str())
        pattern = _pattern(config.get('pre_tokenizer'))
        model, normalizer = config.get('model') or {}, config.get('normalizer')
        if pattern is None or model.get('type') != 'BPE' or model.get('dropout') or backend.encode_special_tokens:
            return None  # (encode_special_tokens: special tokens in text are text, not split off)
        if normalizer is not None and normalizer != {'type': 'NFC'}:
            return None
        if any(t.get('lstrip') or t.get('rstrip') or t.get('single_word') or t.get('normalized')
               for t in config.get('added_tokens') or []):
            return None
        encoder = cls(backend, config, pattern)
        encoder._check(''.join(chr(i) for i in range(128)))  # ASCII through the same probes, once
        return encoder

    def encode(self, texts: List[str]) -> List[List[int]]:
        self._check(''.join(t for t in texts if not t.isascii()))
        words_of, seen, rust = [], set(), []
        for i, text in enumerate(texts):
            words = None if self.bad and not self.bad.isdisjoint(text) else self._split(text)
            if words is None:
                rust.append(i)
            else:
                seen.update(words)
            words_of.append(words)
        long_words = self._merge(sorted(seen.difference(self.cache)))
        cache = self.cache
        out = [None if words is None else list(chain.from_iterable(map(cache.__getitem__, words)))
               for words in words_of]
        for word in long_words:
            del cache[word]
        for i, encoding in zip(rust, _rust_encode(self.backend, [texts[i] for i in rust])):
            out[i] = encoding
        return out

    def _split(self, text: str) -> Optional[List[str]]:
        """The pre-tokens of text (added tokens as themselves), or None when the regex leaves a gap."""
        parts = self.added.split(text) if self.added is not None else [text]
        words: List[str] = []
        for i, part in enumerate(parts):
            if i % 2:
                words.append(part)
            elif part:
                if self.nfc and not part.isascii():
                    part = unicodedata.normalize('NFC', part)
                found = self.words.findall(part)
                if sum(map(len, found)) != len(part):
                    return None  # Isolated splitting would also keep the unmatched text: leave it to Rust
                words += found
        return words

    def _merge(self, words: List[str]) -> List[str]:
        """Cache the BPE ids of new pre-tokens (one Rust call); returns the long ones, to drop after use."""
        if len(self.cache) + len(words) > _MAX_ENTRIES:
            self.cache = dict(self.added_ids)
        self.cache.update(zip(words, _rust_encode(self.bpe, words)))
        return [w for w in words if len(w) > _MAX_CACHED_CHARS]

    def _check(self, text: str) -> None:
        """Probe each character not seen yet; one that encodes differently here goes to `bad`."""
        new = set(text) - self.checked
        if not new:
            return
        self.checked |= new
        chars = sorted(new)
        probes = [p.format(c=c) for c in chars for p in _PROBES]
        expected = _rust_encode(self.backend, probes)
        got = self._encode_probes(probes)
        for k, c in enumerate(chars):
            span = slice(k * len(_PROBES), (k + 1) * len(_PROBES))
            if got[span] != expected[span]:
                self.bad.add(c)

    def _encode_probes(self, probes: List[str]) -> List[Optional[List[int]]]:
        words_of = [self._split(p) for p in probes]
        new = list(dict.fromkeys(w for words in words_of if words for w in words))
        ids = dict(zip(new, _rust_encode(self.bpe, new)))
        return [None if words is None else [t for w in words for t in ids[w]] for words in words_of]


def _rust_encode(tokenizer, texts: List[str]) -> List[List[int]]:
    if not texts:
        return []
    encode = getattr(tokenizer, 'encode_batch_fast', None) or tokenizer.encode_batch
    return [e.ids for e in encode(texts, add_special_tokens=False)]
