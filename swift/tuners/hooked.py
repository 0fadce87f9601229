"""Tuners that peft has no class for (bottleneck Adapter, ReFT): small modules attached to the decoder through
forward hooks, saved as an adapter directory whose adapter_config.json names a `SWIFT_*` peft_type.

The directory holds adapter_config.json (peft_type, base model, the tuner's own config) and
adapter_model.safetensors (only the added weights), so --adapters, --resume_from_checkpoint and `swift infer`
find it like a peft adapter; neither tuner is linear in the weights, so neither merges.
"""
import json
import os
from typing import Callable, Dict

import torch
from safetensors.torch import load_file, save_file

from swift.utils import ArgumentError, get_logger

logger = get_logger()
CONFIG_NAME = 'adapter_config.json'
WEIGHTS_NAME = 'adapter_model.safetensors'
# peft_type -> attach(model, config) that adds the tuner's modules and hooks; filled by adapter.py and reft.py.
HOOK_TUNERS: Dict[str, Callable] = {}
_ATTR = 'swift_hook_tuner'  # model attribute: (peft_type, config) of the attached tuner


def hook_tuner_type(path) -> str:
    """The SWIFT_* peft_type saved in `path`, or '' for anything else."""
    file = os.path.join(path, CONFIG_NAME) if path else ''
    if not os.path.isfile(file):
        return ''
    with open(file, encoding='utf-8') as f:
        peft_type = json.load(f).get('peft_type', '')
    return peft_type if peft_type in HOOK_TUNERS else ''


def is_hooked(model) -> bool:
    return getattr(model, _ATTR, None) is not None


def attach(model, peft_type: str, config: dict):
    """Freeze the base model, add the tuner (its parameters trainable) and remember its config for saving."""
    if is_hooked(model):
        raise ArgumentError(f'The model already has a {getattr(model, _ATTR)[0]} tuner: load one at a time.')
    model.requires_grad_(False)
    HOOK_TUNERS[peft_type](model, config)
    setattr(model, _ATTR, (peft_type, dict(config)))
    return model


def tuner_state_dict(model) -> Dict[str, torch.Tensor]:
    prefix = f'.{_module_prefix(model)}'
    return {k: v.detach().contiguous() for k, v in model.state_dict().items() if prefix in k}


def _module_prefix(model) -> str:
    return 'swift_' + getattr(model, _ATTR)[0].lower().removeprefix('swift_')


def save_hook_tuner(model, output_dir: str) -> None:
    peft_type, config = getattr(model, _ATTR)
    os.makedirs(output_dir, exist_ok=True)
    meta = {'peft_type': peft_type, 'base_model_name_or_path': getattr(model, 'name_or_path', None), **config}
    with open(os.path.join(output_dir, CONFIG_NAME), 'w', encoding='utf-8') as f:
        json.dump(meta, f, indent=2)
    save_file(tuner_state_dict(model), os.path.join(output_dir, WEIGHTS_NAME))


def load_hook_tuner(model, path: str, is_trainable: bool = False):
    """Attach the tuner saved in `path` to `model` with its trained weights."""
    with open(os.path.join(path, CONFIG_NAME), encoding='utf-8') as f:
        meta = json.load(f)
    peft_type = meta.pop('peft_type')
    meta.pop('base_model_name_or_path', None)
    attach(model, peft_type, meta)
    saved = load_file(os.path.join(path, WEIGHTS_NAME))
    expected = tuner_state_dict(model)
    if set(saved) != set(expected) or any(saved[k].shape != expected[k].shape for k in saved):
        raise ArgumentError(f'--adapters {path} does not fit this model: its {peft_type} weights have other names '
                            'or shapes; pass the model it was trained on.')
    model.load_state_dict(saved, strict=False)
    if not is_trainable:
        model.requires_grad_(False)
    logger.info(f'Loaded the {peft_type} tuner from {path}.')
    return model


def decoder_layers(model, flag: str):
    from .llamapro import find_decoder_layers
    try:
        return find_decoder_layers(model)[1]
    except ArgumentError:
        raise ArgumentError(f'{flag}: cannot find the decoder layers of {type(model).__name__}.') from None
