"""New special tokens (ms-swift --new_special_tokens, LLaMA-Factory --new_special_tokens / --resize_vocab /
--new_special_tokens_config / --init_special_tokens): add them to the tokenizer, grow the embedding matrix to
the tokenizer, and initialise the new rows.

Adding is deterministic (the same tokens in the same order get the same ids), so inference and export rebuild
the trained vocabulary from args.json before the adapter (which saved the embedding rows) is loaded.
"""
import math
import os
from typing import Dict, List, Optional, Sequence

import torch

from swift.utils import ArgumentError, get_logger

logger = get_logger()
INIT_METHODS = ('noise_init', 'desc_init', 'desc_init_w_noise')


def read_new_tokens(values: Sequence[str]) -> List[str]:
    """--new_special_tokens values: tokens (comma lists allowed, LLaMA-Factory style) or .txt files, one token a
    line (ms-swift); duplicates dropped, order kept."""
    tokens: List[str] = []
    for value in values:
        if value.endswith('.txt'):
            if not os.path.isfile(value):
                raise ArgumentError(f'--new_special_tokens {value}: file not found (a .txt file lists one token '
                                    'a line).')
            with open(value, encoding='utf-8') as f:
                items = [line.strip() for line in f]
        else:
            items = [t.strip() for t in value.split(',')]
        tokens += [t for t in items if t and t not in tokens]
    return tokens


def read_token_descriptions(path: str) -> Dict[str, str]:
    """--new_special_tokens_config: a YAML (or JSON) mapping token -> description text."""
    import yaml
    if not os.path.isfile(path):
        raise ArgumentError(f'--new_special_tokens_config {path}: file not found.')
    with open(path, encoding='utf-8') as f:
        try:
            data = yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise ArgumentError(f'--new_special_tokens_config {path}: not valid YAML ({" ".join(str(e).split())}).'
                                ) from None
    if not isinstance(data, dict) or not data or not all(isinstance(v, str) for v in data.values()):
        raise ArgumentError(f'--new_special_tokens_config {path}: expected a mapping of token to description, '
                            "e.g. '<think>: the start of reasoning'.")
    return {str(k): v for k, v in data.items()}


def embedding_module_names(model) -> List[str]:
    """Module names (last part, as peft's modules_to_save matches them) of the input and output embeddings."""
    wanted = [m for m in (model.get_input_embeddings(), model.get_output_embeddings()) if m is not None]
    names = []
    for name, module in model.named_modules():
        if any(module is w for w in wanted) and name.split('.')[-1] not in names:
            names.append(name.split('.')[-1])
    return names


def add_new_tokens(model, tokenizer, tokens: Sequence[str], resize: bool = False) -> List[int]:
    """Add `tokens` as special tokens; grow the embeddings (exactly to len(tokenizer)) when the tokenizer
    outgrows them. Returns the ids of the tokens that were not in the vocabulary before."""
    known = set(tokenizer.get_vocab())
    fresh = [t for t in tokens if t not in known]
    if fresh:
        tokenizer.add_special_tokens({'additional_special_tokens': list(fresh)}, replace_extra_special_tokens=False)
        logger.info(f'Added {len(fresh)} special tokens: {", ".join(fresh)} (vocabulary {len(tokenizer)}).')
    if model is not None and (tokens or resize):
        rows = model.get_input_embeddings().weight.shape[0]
        if len(tokenizer) > rows:
            if getattr(model, 'quantization_method', None) or getattr(model, 'hf_quantizer', None):
                raise ArgumentError('--new_special_tokens: the embeddings of a quantized model cannot grow; add the '
                                    'tokens to an unquantized model.')
            model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
            logger.info(f'Resized the token embeddings: {rows} -> {len(tokenizer)} rows.')
    return [tokenizer.convert_tokens_to_ids(t) for t in fresh]


@torch.no_grad()
def init_new_embeddings(model, tokenizer, token_ids: List[int], method: str = 'noise_init',
                        descriptions: Optional[Dict[str, str]] = None) -> None:
    """LLaMA-Factory's initialisation of the new rows, in the input and (untied) output embeddings:
    noise_init = mean of the existing rows + N(0, 1/d) noise; desc_init = mean of the embeddings of the tokens
    of the token's description (the existing mean when it has none); desc_init_w_noise = that plus the noise."""
    if not token_ids:
        return
    matrices = [model.get_input_embeddings().weight]
    output = model.get_output_embeddings()
    if output is not None and output.weight is not matrices[0]:
        matrices.append(output.weight)
    new = set(token_ids)
    for weight in matrices:
        keep = torch.ones(weight.shape[0], dtype=torch.bool, device=weight.device)
        keep[token_ids] = False
        mean = weight[keep].mean(dim=0)
        dim = weight.shape[1]
        for token_id in token_ids:
            base = mean
            if method != 'noise_init':
                text = (descriptions or {}).get(tokenizer.convert_ids_to_tokens(token_id), '')
                ids = [i for i in tokenizer(text, add_special_tokens=False)['input_ids'] if i not in new]
                base = weight[ids].mean(dim=0) if ids else mean
            noise = torch.randn_like(base) / math.sqrt(dim) if method != 'desc_init' else 0.
            weight[token_id] = base + noise
    logger.info(f'Initialised {len(token_ids)} new embedding rows ({method}).')
