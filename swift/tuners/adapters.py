"""Continue training saved peft adapters (--adapters, --resume_from_checkpoint) and save them reloadably."""
import json
import os
import shutil
import tempfile
from typing import List

import torch
from peft import PeftModel, get_peft_model_state_dict
from safetensors import safe_open
from safetensors.torch import save_file

from swift.utils import ArgumentError, get_logger

logger = get_logger()
CONFIG_NAME = 'adapter_config.json'
WEIGHTS_NAME = 'adapter_model.safetensors'
# Attribute holding the initial randomized-PiSSA adapter, needed to save it as plain LoRA.
_INITIAL_STATE = 'swift_initial_adapter_state'


def stacked_base_adapters(adapter_dir: str) -> List[str]:
    """The adapters a --create_new_adapter run merged into its base before training `adapter_dir` (from its
    args.json), oldest first: inference and export merge them before applying `adapter_dir`."""
    path = os.path.join(adapter_dir, 'args.json')
    if not os.path.isfile(path):
        return []
    with open(path, encoding='utf-8') as f:
        saved = json.load(f)
    if not saved.get('create_new_adapter'):
        return []
    out: List[str] = []
    for base in saved.get('adapters') or []:
        out += [p for p in stacked_base_adapters(base) + [base] if p not in out]
    return out


def with_base_adapters(adapters: List[str]) -> List[str]:
    """Each adapter preceded by the adapters its --create_new_adapter run merged into its base."""
    out: List[str] = []
    for adapter in adapters:
        out += [p for p in stacked_base_adapters(adapter) + [adapter] if p not in out]
    return out


def merge_into_base(model, adapters: List[str]):
    """The model with each peft adapter merged in, in order (the base of a --create_new_adapter run)."""
    for adapter_dir in adapters:
        read_adapter_config(adapter_dir)
        model = PeftModel.from_pretrained(model, adapter_dir).merge_and_unload()
        logger.info(f'Merged {adapter_dir} into the base model.')
    return model


def is_adapter_dir(path) -> bool:
    return bool(path) and os.path.isfile(os.path.join(path, CONFIG_NAME))


def read_adapter_config(adapter_dir: str) -> dict:
    if not is_adapter_dir(adapter_dir):
        raise ArgumentError(f'--adapters {adapter_dir}: no {CONFIG_NAME} there; pass a directory written by '
                            'LoRA-style training (full/llamapro checkpoints are models: pass them as --model).')
    with open(os.path.join(adapter_dir, CONFIG_NAME), encoding='utf-8') as f:
        return json.load(f)


def load_adapter_for_training(model, adapter_dir: str):
    """PeftModel with the saved adapter trainable; mismatching adapters fail with one line."""
    config = read_adapter_config(adapter_dir)
    init = str(config.get('init_lora_weights', ''))
    if init.startswith('pissa_niter'):
        raise ArgumentError(f'--adapters {adapter_dir} was saved with randomized {init} init and cannot be reloaded '
                            'identically; use the converted final output of that run, or train with '
                            '--init_weights pissa.')
    base = config.get('base_model_name_or_path')
    mismatch = (f'--adapters {adapter_dir} does not fit this model (adapter trained on {base!r}, model is '
                f'{getattr(model, "name_or_path", type(model).__name__)!r})')
    _check_model_type(model, adapter_dir, mismatch)
    try:
        peft_model = PeftModel.from_pretrained(model, adapter_dir, is_trainable=True)
    except (RuntimeError, ValueError, KeyError) as e:
        detail = next((ln.strip() for ln in str(e).splitlines() if 'size mismatch' in ln), str(e).splitlines()[0])
        raise ArgumentError(f'{mismatch}: {detail}') from None
    _check_no_unexpected_keys(peft_model, adapter_dir, mismatch)
    logger.info(f'Continuing training of the adapter in {adapter_dir} (its {CONFIG_NAME} sets rank, targets, ...).')
    return peft_model


def _check_model_type(model, adapter_dir: str, mismatch: str):
    """Same-shaped families (e.g. Llama and Qwen2 at one size) load each other's adapters without error: compare
    the model_type recorded in the adapter's args.json with the model's."""
    path = os.path.join(adapter_dir, 'args.json')
    model_info = getattr(model, 'model_info', None)
    if not os.path.isfile(path) or model_info is None or not model_info.model_type:
        return
    with open(path, encoding='utf-8') as f:
        saved = json.load(f).get('model_type')
    if saved and saved != model_info.model_type:
        raise ArgumentError(f'{mismatch}: the adapter was trained on model_type {saved!r}, this model is '
                            f'{model_info.model_type!r}.')


def _check_no_unexpected_keys(peft_model, adapter_dir: str, mismatch: str):
    path = os.path.join(adapter_dir, WEIGHTS_NAME)
    if not os.path.isfile(path):
        return
    with safe_open(path, framework='pt') as f:
        saved = set(f.keys())
    expected = set(get_peft_model_state_dict(peft_model).keys())
    unexpected = sorted(saved - expected)
    if unexpected:
        raise ArgumentError(f'{mismatch}: {len(unexpected)} saved weights have no place in it, e.g. {unexpected[0]}.')


def remember_initial_adapter(peft_model):
    """Randomized PiSSA (pissa_niter_N) changes the base weights irreproducibly: keep the initial adapter so that
    save_adapter can store the trained one as plain LoRA on the original base weights."""
    state = {k: v.detach().clone() for k, v in get_peft_model_state_dict(peft_model).items()}
    setattr(peft_model, _INITIAL_STATE, state)


def save_adapter(model, output_dir: str, **kwargs):
    """model.save_pretrained(output_dir), converting randomized-PiSSA adapters to plain LoRA (rank 2r)."""
    initial = getattr(model, _INITIAL_STATE, None)
    if initial is None:
        return model.save_pretrained(output_dir, **kwargs)
    tmp = tempfile.mkdtemp(prefix='swift-pissa-init-')
    try:
        save_file({k: v.contiguous() for k, v in initial.items()}, os.path.join(tmp, WEIGHTS_NAME))
        with torch.no_grad():
            model.save_pretrained(output_dir, path_initial_model_for_weight_conversion=tmp, **kwargs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info(f'Saved the pissa_niter adapter to {output_dir} converted to plain LoRA for the original model.')
