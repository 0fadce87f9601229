"""`get_model_tokenizer()`: resolve the model directory and model_type, then call the ModelMeta's get_function."""
from typing import Any, Dict, Optional, Tuple, Union

import torch

from swift.utils import ModelError, get_logger

from .hub import resolve_model_dir
from .loader import (TASK_TYPES, build_rope_scaling, get_max_model_len, get_model_tokenizer_with_flash_attn,
                     parse_json_arg)
from .quant import to_torch_dtype
from .register import (MODEL_MAPPING, ModelInfo, ModelMeta, get_matched_model_meta, get_model_meta,
                       get_model_types_by_architecture)
from .tiny import tiny_model_name


def _detect_model_meta(model_id_or_path: str, model_dir: str, config) -> ModelMeta:
    """By id suffix, then tiny cache dir name, then config architectures; else a generic meta (warned)."""
    meta = get_matched_model_meta(model_id_or_path) or get_matched_model_meta(model_dir)
    tiny_name = tiny_model_name(model_dir)
    if meta is None and tiny_name:
        meta = get_matched_model_meta(tiny_name)
    if meta is not None:
        return meta
    architectures = getattr(config, 'architectures', None) or []
    candidates = [t for arch in architectures[:1] for t in get_model_types_by_architecture(arch)]
    # the offline test models share their family's architecture; they are matched by name above
    candidates = [t for t in candidates if 'test' not in MODEL_MAPPING.get(t).tags] or candidates
    config_type = getattr(config, 'model_type', None)
    if len(candidates) == 1 or config_type in candidates:
        return MODEL_MAPPING.get(candidates[0] if len(candidates) == 1 else config_type)
    if candidates:
        raise ModelError(f'Several model_types fit {model_id_or_path!r} (architecture {architectures[0]}): '
                         f'{", ".join(candidates)}; pass --model_type to choose one.')
    get_logger().warning(f'No registered model_type matches {model_id_or_path!r} (architectures {architectures}); '
                         'loading it with the transformers Auto classes and no registered template. '
                         'Pass --model_type to choose one.')
    return ModelMeta(None, [], None, get_model_tokenizer_with_flash_attn, architectures=list(architectures))


def _quant_info(config, quantization_config) -> Tuple[Optional[str], Optional[int]]:
    """(method, bits) of a load-time quantization config or of a pre-quantized checkpoint."""
    quant = quantization_config or getattr(config, 'quantization_config', None)
    if quant is None:
        return None, None
    quant = quant if isinstance(quant, dict) else quant.to_dict()
    method = quant.get('quant_method')
    method = 'bnb' if method == 'bitsandbytes' else method
    bits = quant.get('bits') or quant.get('nbits') or quant.get('w_bit')
    if method == 'bnb':
        bits = 4 if quant.get('load_in_4bit') else 8
    return method, bits


def _resolve_task_type(task_type, num_labels, meta: ModelMeta) -> Optional[str]:
    task_type = task_type or ('seq_cls' if num_labels else meta.task_type) or 'causal_lm'
    if task_type not in TASK_TYPES:
        raise ModelError(f'Unknown task_type {task_type!r}; choose one of: {", ".join(TASK_TYPES)}.')
    if task_type == 'seq_cls' and not num_labels:
        raise ModelError('task_type=seq_cls needs --num_labels (the number of classes).')
    return task_type


def get_model_info_meta(model_id_or_path: str, torch_dtype: Union[str, torch.dtype, None] = None, *,
                        use_hf: Optional[bool] = None, hub_token: Optional[str] = None, revision: Optional[str] = None,
                        download_model: bool = False, model_type: Optional[str] = None, quantization_config=None,
                        task_type: Optional[str] = None, num_labels: Optional[int] = None,
                        rope_scaling: Union[str, dict, None] = None, max_length: Optional[int] = None,
                        **kwargs) -> Tuple[ModelInfo, ModelMeta]:
    """Resolve directory, model_type, dtype and limits without loading weights."""
    from transformers import AutoConfig
    meta = get_model_meta(model_type) if model_type else None
    model_dir = resolve_model_dir(model_id_or_path, use_hf=use_hf, hub_token=hub_token, revision=revision,
                                  download_weights=download_model,
                                  ignore_patterns=meta.ignore_patterns if meta else None)
    config = AutoConfig.from_pretrained(model_dir, trust_remote_code=True)
    meta = meta or _detect_model_meta(model_id_or_path, model_dir, config)
    torch_dtype = to_torch_dtype(torch_dtype) or meta.torch_dtype or getattr(config, 'dtype', None)
    torch_dtype = to_torch_dtype(torch_dtype) or torch.float32
    max_model_len = get_max_model_len(config)
    rope_scaling = build_rope_scaling(rope_scaling, max_model_len, max_length)
    if rope_scaling and max_model_len and rope_scaling.get('factor'):
        max_model_len = int(max_model_len * rope_scaling['factor'])
    quant_method, quant_bits = _quant_info(config, quantization_config)
    info = ModelInfo(model_type=meta.model_type, model_dir=model_dir, torch_dtype=torch_dtype,
                     max_model_len=max_model_len, quant_method=quant_method, quant_bits=quant_bits,
                     rope_scaling=rope_scaling, config=config,
                     task_type=_resolve_task_type(task_type, num_labels, meta), num_labels=num_labels)
    return info, meta


def _model_kwargs(model_kwargs, device_map, max_memory, quantization_config) -> Dict[str, Any]:
    kwargs = dict(model_kwargs or {})
    if device_map is not None:
        kwargs['device_map'] = parse_json_arg(device_map, 'device_map')
    if max_memory is not None:
        kwargs['max_memory'] = parse_json_arg(max_memory, 'max_memory')
    if quantization_config is not None:
        kwargs['quantization_config'] = quantization_config
    return kwargs


def _finish(model, tokenizer, info: ModelInfo, meta: ModelMeta) -> None:
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token  # batching needs a pad id; eos is the usual choice
    for obj in (model, tokenizer):
        if obj is not None:
            obj.model_info, obj.model_meta = info, meta
    generation_config = getattr(model, 'generation_config', None)
    if generation_config is not None and generation_config.pad_token_id is None:
        generation_config.pad_token_id = tokenizer.pad_token_id


def get_model_tokenizer(model_id_or_path: str, torch_dtype: Union[str, torch.dtype, None] = None,
                        device_map: Union[str, Dict[str, Any], None] = None, *, model_type: Optional[str] = None,
                        load_model: bool = True, attn_impl: Optional[str] = None, quantization_config=None,
                        model_kwargs: Optional[Dict[str, Any]] = None, rope_scaling: Union[str, dict, None] = None,
                        max_memory: Union[str, dict, None] = None, num_labels: Optional[int] = None,
                        task_type: Optional[str] = None, use_hf: Optional[bool] = None, hub_token: Optional[str] = None,
                        revision: Optional[str] = None, max_length: Optional[int] = None, **kwargs):
    """(model or None, tokenizer), both carrying `.model_info` and `.model_meta`. See docs/models.md."""
    info, meta = get_model_info_meta(model_id_or_path, torch_dtype, use_hf=use_hf, hub_token=hub_token,
                                     revision=revision, download_model=load_model, model_type=model_type,
                                     quantization_config=quantization_config, task_type=task_type,
                                     num_labels=num_labels, rope_scaling=rope_scaling, max_length=max_length)
    model_kwargs = _model_kwargs(model_kwargs, device_map, max_memory, quantization_config)
    model, tokenizer = meta.get_function(info.model_dir, info, model_kwargs, load_model, attn_impl=attn_impl,
                                         **kwargs)
    _finish(model, tokenizer, info, meta)
    return model, tokenizer
