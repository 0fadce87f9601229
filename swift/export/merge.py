"""Merge saved peft adapters into their base model and save it as a plain, self-describing model directory."""
import json
import os
from typing import List, Optional

import torch

from swift.tuners.adapters import is_adapter_dir, read_adapter_config, with_base_adapters
from swift.utils import ArgumentError, get_logger

logger = get_logger()
# Config fields that must agree between the adapter's base and the model it is merged into.
_SHAPE_KEYS = ('model_type', 'hidden_size', 'num_hidden_layers', 'intermediate_size', 'vocab_size')
CHAT_TEMPLATE_FILE = 'chat_template.jinja'


def check_output_dir(output_dir: str, exist_ok: bool) -> None:
    if os.path.exists(output_dir) and not exist_ok:
        raise ArgumentError(f'--output_dir {output_dir} already exists: pass --exist_ok true to overwrite it, '
                            'or choose another --output_dir.')


def check_mergeable(adapters: List[str]) -> None:
    """Every --adapters dir must hold a peft adapter; full/llamapro checkpoints are models, not adapters."""
    for path in adapters:
        if not is_adapter_dir(path) and os.path.isfile(os.path.join(path, 'config.json')):
            raise ArgumentError(f'nothing to merge: {path} is a full model (full or llamapro training saves the '
                                f'whole model); use it directly as --model {path}.')
        config = read_adapter_config(path)  # raises one line when there is no adapter_config.json
        if config.get('peft_type') in ('SWIFT_REFT', 'SWIFT_ADAPTER'):
            raise ArgumentError(f'--adapters {path}: {config["peft_type"][6:].lower()} changes activations through '
                                'added modules and cannot be merged into the weights; serve it with --adapters '
                                'instead.')
        if config.get('peft_type') in ('PROMPT_TUNING', 'PREFIX_TUNING', 'P_TUNING'):
            raise ArgumentError(f'--adapters {path}: {config["peft_type"].lower()} adds virtual tokens and cannot '
                                'be merged into the weights; serve it with --adapters instead.')


def _base_config(adapter_dir: str) -> Optional[dict]:
    base = read_adapter_config(adapter_dir).get('base_model_name_or_path') or ''
    path = os.path.join(base, 'config.json')
    if not os.path.isfile(path):
        return None  # a hub id or a moved directory: peft's shape checks still apply
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def check_same_base(model, adapter_dir: str) -> None:
    saved = _base_config(adapter_dir)
    if saved is None:
        return
    config = model.config.to_dict()
    keys = _SHAPE_KEYS
    if read_adapter_config(adapter_dir).get('modules_to_save'):
        keys = tuple(k for k in keys if k != 'vocab_size')  # new tokens: the adapter carries the grown embeddings
    diffs = [f'{k} {saved[k]} vs {config.get(k)}' for k in keys if k in saved and saved[k] != config.get(k)]
    if diffs:
        base = read_adapter_config(adapter_dir)['base_model_name_or_path']
        raise ArgumentError(f'--adapters {adapter_dir} was trained on another base model ({base}; {", ".join(diffs)}'
                            '): pass the model it was trained on as --model, or drop --model to use its args.json.')


def _load_one(model, adapter_dir: str):
    from peft import PeftModel
    check_same_base(model, adapter_dir)
    try:
        return PeftModel.from_pretrained(model, adapter_dir)
    except (RuntimeError, ValueError, KeyError) as e:
        detail = next((ln.strip() for ln in str(e).splitlines() if 'size mismatch' in ln), str(e).splitlines()[0])
        raise ArgumentError(f'--adapters {adapter_dir} does not fit this model: {detail}') from None


@torch.no_grad()
def merge_adapters(model, adapters: List[str]):
    """The base model with each adapter merged in, in order (a plain transformers model)."""
    adapters = with_base_adapters(adapters)  # --create_new_adapter checkpoints: their base adapters first
    check_mergeable(adapters)
    for adapter_dir in adapters:
        peft_model = _load_one(model, adapter_dir)
        model = peft_model.merge_and_unload()
        logger.info(f'Merged {adapter_dir} ({peft_model.peft_config["default"].peft_type}).')
    return model


def trained_chat_template(adapters: List[str]) -> Optional[str]:
    """The chat template the checkpoint was saved with (the trainer saves the tokenizer next to the adapter)."""
    for path in adapters:
        file = os.path.join(path, CHAT_TEMPLATE_FILE)
        if os.path.isfile(file):
            with open(file, encoding='utf-8') as f:
                return f.read()
    return None


def save_model_dir(model, tokenizer, output_dir: str, max_shard_size: str = '5GB') -> None:
    """Sharded safetensors, config, generation config, tokenizer and chat template."""
    os.makedirs(output_dir, exist_ok=True)
    model.save_pretrained(output_dir, max_shard_size=max_shard_size)
    tokenizer.save_pretrained(output_dir)
    logger.info(f'Saved the model to {output_dir}.')


def export_args_json(args, tokenizer, template_type: str) -> dict:
    """args.json fields so that `swift infer --model <output_dir>` rebuilds the same model type and template.
    max_length is the training run's (ours is the calibration length, not a limit for inference)."""
    from swift.arguments.base_args import ARGS_FILE, read_args_json
    trained = next((read_args_json(p) for p in args.adapters if os.path.isfile(os.path.join(p, ARGS_FILE))), {})
    info = tokenizer.model_info
    return {'model': args.model, 'model_type': info.model_type, 'template': template_type, 'adapters': [],
            'merged_adapters': list(args.adapters), 'train_type': 'full', 'quant_method': None,
            'quant_bits': None, 'max_length': trained.get('max_length')}
