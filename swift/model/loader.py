"""The standard `get_function`s (ms-swift signatures) and the config tweaks they apply before loading."""
import importlib.util
import json
import math
import os
from typing import Any, Dict, Optional, Union

import torch

from swift.utils import ModelError, pad_token_id

# Our names (ms-swift's) -> transformers' attn_implementation.
ATTN_IMPLS = {'flash_attn': 'flash_attention_2', 'flash_attention_2': 'flash_attention_2', 'sdpa': 'sdpa',
              'eager': 'eager', 'flex_attention': 'flex_attention'}
TASK_TYPES = ('causal_lm', 'seq_cls')
_MAX_LEN_KEYS = ('max_position_embeddings', 'seq_length', 'max_seq_len', 'n_positions', 'max_sequence_length')


def to_attn_implementation(attn_impl: Optional[str]) -> Optional[str]:
    """None lets transformers choose (sdpa where supported, else eager)."""
    if attn_impl is None:
        return None
    if attn_impl not in ATTN_IMPLS:
        raise ModelError(f'Unknown attn_impl {attn_impl!r}; choose one of: flash_attn, sdpa, eager.')
    impl = ATTN_IMPLS[attn_impl]
    if impl == 'flash_attention_2' and not (torch.cuda.is_available() and importlib.util.find_spec('flash_attn')):
        raise ModelError('attn_impl=flash_attn needs a CUDA GPU and the flash-attn package '
                         '(pip install flash-attn); use --attn_impl sdpa on this machine.')
    return impl


def parse_json_arg(value: Union[str, dict, None], name: str) -> Union[str, dict, None]:
    """A dict, a JSON string or a JSON file path -> dict; other strings (e.g. 'auto', 'cpu') stay as they are."""
    if not isinstance(value, str):
        return value
    text = value
    if os.path.isfile(value):
        with open(value, encoding='utf-8') as f:
            text = f.read()
    if not text.lstrip().startswith('{'):
        return value
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as e:
        raise ModelError(f'{name} is not valid JSON ({e.msg} at char {e.pos}): {value!r}') from None
    # JSON keys are strings; device indices must be ints ('0' -> 0).
    return {int(k) if k.isdigit() else k: v for k, v in parsed.items()}


def get_max_model_len(config) -> Optional[int]:
    for key in _MAX_LEN_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def build_rope_scaling(rope_scaling: Union[str, dict, None], max_model_len: Optional[int],
                       max_length: Optional[int]) -> Optional[Dict[str, Any]]:
    """'linear'/'dynamic' -> {'rope_type', 'factor'} with factor = ceil(max_length / max_model_len)."""
    rope_scaling = parse_json_arg(rope_scaling, 'rope_scaling')
    if rope_scaling is None or isinstance(rope_scaling, dict):
        return rope_scaling
    if rope_scaling not in ('linear', 'dynamic'):
        raise ModelError(f"Unknown rope_scaling {rope_scaling!r}; use 'linear', 'dynamic' or a JSON dict.")
    if not max_length or not max_model_len:
        raise ModelError(f'rope_scaling={rope_scaling!r} needs --max_length (and a config with '
                         'max_position_embeddings) to derive the factor; or pass a JSON dict with "factor".')
    return {'rope_type': rope_scaling, 'factor': max(float(math.ceil(max_length / max_model_len)), 1.0)}


def apply_rope_scaling(config, rope_scaling: Dict[str, Any]) -> None:
    """transformers 5 keeps rope settings in `rope_parameters` (with rope_theta); older configs use rope_scaling."""
    rope_scaling = dict(rope_scaling)
    if 'type' in rope_scaling:
        rope_scaling.setdefault('rope_type', rope_scaling.pop('type'))
    params = getattr(config, 'rope_parameters', None)
    if isinstance(params, dict):
        config.rope_parameters = {**params, **rope_scaling}
    else:
        config.rope_scaling = rope_scaling


def _automodel_class(task_type: Optional[str]):
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification
    return AutoModelForSequenceClassification if task_type == 'seq_cls' else AutoModelForCausalLM


def get_model_tokenizer_from_local(model_dir: str, model_info, model_kwargs: Dict[str, Any], load_model: bool = True,
                                   *, tokenizer=None, model_config=None, automodel_class=None, **kwargs):
    """Load config, tokenizer and (optionally) model from a local directory with the Auto classes."""
    from transformers import AutoConfig, AutoTokenizer
    if model_config is None:
        model_config = model_info.config or AutoConfig.from_pretrained(model_dir, trust_remote_code=True)
    if model_info.rope_scaling:
        apply_rope_scaling(model_config, model_info.rope_scaling)
    if tokenizer is None:
        tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=True)
    if model_info.task_type == 'seq_cls':
        model_config.num_labels = model_info.num_labels
        # Sequence classification pools the last non-pad token: the config must know the pad id.
        model_config.pad_token_id = pad_token_id(tokenizer)
    model = None
    if load_model:
        automodel_class = automodel_class or _automodel_class(model_info.task_type)
        model = automodel_class.from_pretrained(model_dir, config=model_config, dtype=model_info.torch_dtype,
                                                trust_remote_code=True, **model_kwargs)
    return model, tokenizer


def get_model_tokenizer_with_flash_attn(model_dir: str, model_info, model_kwargs: Dict[str, Any],
                                        load_model: bool = True, **kwargs):
    """from_local plus the attention implementation chosen by `attn_impl` (ms-swift's standard get_function)."""
    attn_impl = to_attn_implementation(kwargs.pop('attn_impl', None))
    if attn_impl is not None:
        model_kwargs = {**model_kwargs, 'attn_implementation': attn_impl}
    return get_model_tokenizer_from_local(model_dir, model_info, model_kwargs, load_model, **kwargs)
