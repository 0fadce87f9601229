"""GGUF tokenizer metadata for byte-level BPE ("gpt2"-style) tokenizers, the kind Qwen2 and Llama 3 use."""
import json
from typing import List, Tuple

from swift.utils import ArgumentError, get_logger

logger = get_logger()
# Pre-tokenizer split regexes llama.cpp knows by name (tokenizer.ggml.pre); others fall back to 'default'.
_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}%s"
          r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
_PRE_TOKENIZERS = {_SPLIT % '': 'qwen2', _SPLIT % '{1,3}': 'llama-bpe'}


def _backend_json(tokenizer) -> dict:
    backend = getattr(tokenizer, 'backend_tokenizer', None)
    if backend is None:
        raise ArgumentError(f'GGUF export needs a tokenizers-backed (tokenizer.json) tokenizer, got '
                            f'{type(tokenizer).__name__}.')
    return json.loads(backend.to_str())


def _split_regexes(pre: dict) -> List[str]:
    if not pre:
        return []
    if pre.get('type') == 'Sequence':
        return [r for p in pre['pretokenizers'] for r in _split_regexes(p)]
    if pre.get('type') == 'Split':
        return [pre['pattern'].get('Regex') or pre['pattern'].get('String')]
    return []


def pre_tokenizer_name(data: dict) -> str:
    for regex in _split_regexes(data.get('pre_tokenizer')):
        if regex in _PRE_TOKENIZERS:
            return _PRE_TOKENIZERS[regex]
    logger.warning('GGUF: unknown pre-tokenizer split regex; writing tokenizer.ggml.pre=default, so llama.cpp may '
                   'split text differently from the original tokenizer.')
    return 'default'


def _merges(data: dict) -> List[str]:
    return [m if isinstance(m, str) else ' '.join(m) for m in data['model'].get('merges', [])]


def token_list(tokenizer, vocab_size: int) -> Tuple[List[str], List[int]]:
    """Tokens by id (padded to the embedding rows) and their GGUF token types."""
    import gguf
    by_id = {i: t for t, i in tokenizer.get_vocab().items()}
    added = tokenizer.added_tokens_decoder
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in by_id:
            tokens.append(f'[PAD{i}]')
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.NORMAL)
    return tokens, types


def _adds_bos(tokenizer) -> bool:
    bos = tokenizer.bos_token_id
    return bos is not None and tokenizer('a', add_special_tokens=True)['input_ids'][:1] == [bos]


def add_tokenizer(writer, tokenizer, vocab_size: int, chat_template: str = None, config_bos_id: int = None) -> None:
    """tokenizer.ggml.* keys: model, pre, tokens, types, merges, special ids, add_bos, chat template."""
    data = _backend_json(tokenizer)
    if data['model'].get('type') != 'BPE':
        raise ArgumentError(f'GGUF export supports byte-level BPE tokenizers, got {data["model"].get("type")}.')
    tokens, types = token_list(tokenizer, vocab_size)
    writer.add_tokenizer_model('gpt2')
    writer.add_tokenizer_pre(pre_tokenizer_name(data))
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(_merges(data))
    for key in ('bos', 'eos', 'pad', 'unk'):
        token_id = getattr(tokenizer, f'{key}_token_id')
        if key == 'bos' and token_id is None:
            token_id = config_bos_id  # Qwen2 has no bos token but its config names one, as llama.cpp expects
        if token_id is not None:
            getattr(writer, f'add_{key}_token_id')(token_id)
    writer.add_add_bos_token(_adds_bos(tokenizer))
    chat_template = chat_template or tokenizer.chat_template
    if chat_template:
        writer.add_chat_template(chat_template)
