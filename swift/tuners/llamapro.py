"""LLaMA-Pro block expansion (peft has no such tuner).

Copies of decoder blocks are inserted after each group of original blocks; their attention and MLP output
projections are zeroed, so each new block is an identity (residual only) and the model's output is unchanged at
init. Only the new blocks (and --modules_to_save) train. The result is a bigger plain transformers model, saved
and reloaded with save_pretrained / from_pretrained (config.num_hidden_layers is updated).
"""
import copy
from typing import List

import torch
import torch.nn as nn

from swift.utils import ArgumentError, get_logger

logger = get_logger()
# Output projections of the attention / MLP sub-blocks across common decoder families.
_OUT_PROJ_NAMES = ('o_proj', 'down_proj', 'out_proj', 'dense', 'dense_4h_to_h', 'c_proj', 'fc2', 'w2', 'wo')


def find_decoder_layers(model):
    """(name, ModuleList) of the decoder blocks: the ModuleList with config.num_hidden_layers entries."""
    n_layers = _text_config(model).num_hidden_layers
    for name, module in model.named_modules():
        if isinstance(module, nn.ModuleList) and len(module) == n_layers and name.split('.')[-1] in ('layers', 'h'):
            return name, module
    raise ArgumentError(f'--train_type llamapro: cannot find the {n_layers} decoder layers of '
                        f'{type(model).__name__}.')


def _group_sizes(args, n_layers: int):
    new_blocks = args.llamapro_num_new_blocks
    groups = args.llamapro_num_groups or new_blocks
    if new_blocks < 1 or new_blocks % groups or n_layers % groups:
        raise ArgumentError(f'--llamapro_num_new_blocks ({new_blocks}) and the {n_layers} model layers must both '
                            f'be divisible by --llamapro_num_groups ({groups}).')
    return n_layers // groups, new_blocks // groups


def _text_config(model):
    """The decoder's config (text_config of multimodal models)."""
    return model.config.get_text_config()


@torch.no_grad()
def _zero_outputs(block: nn.Module):
    zeroed = []
    for name, module in block.named_modules():
        if isinstance(module, nn.Linear) and name.split('.')[-1] in _OUT_PROJ_NAMES:
            module.weight.zero_()
            if module.bias is not None:
                module.bias.zero_()
            zeroed.append(name)
    if len(zeroed) < 2:
        raise ArgumentError(f'--train_type llamapro: cannot find the attention and MLP output projections of '
                            f'{type(block).__name__} (found {zeroed}).')


def _set_layer_idx(layers: nn.ModuleList):
    """Attention caches are indexed by layer_idx: renumber every module that carries one."""
    for idx, layer in enumerate(layers):
        for module in layer.modules():
            if hasattr(module, 'layer_idx'):
                module.layer_idx = idx


def prepare_llamapro(args, model):
    layers_name, layers = find_decoder_layers(model)
    stride, per_group = _group_sizes(args, len(layers))
    config = _text_config(model)
    layer_types = getattr(config, 'layer_types', None)
    new_layers: List[nn.Module] = []
    new_types, new_idx = [], []
    for idx, layer in enumerate(layers):
        new_layers.append(layer)
        new_types.append(layer_types[idx] if layer_types else None)
        if (idx + 1) % stride == 0:
            for _ in range(per_group):
                block = copy.deepcopy(layer)
                _zero_outputs(block)
                new_idx.append(len(new_layers))
                new_layers.append(block)
                new_types.append(new_types[-1])
    layers = nn.ModuleList(new_layers)
    parent, _, attr = layers_name.rpartition('.')
    setattr(model.get_submodule(parent), attr, layers)
    _set_layer_idx(layers)
    config.num_hidden_layers = len(layers)
    if layer_types:
        config.layer_types = new_types
    _freeze_all_but(model, [f'{layers_name}.{i}.' for i in new_idx] + list(args.modules_to_save))
    logger.info(f'LLaMA-Pro: inserted blocks {new_idx}; the model now has {len(layers)} layers.')
    return model


def _freeze_all_but(model, prefixes: List[str]):
    for name, param in model.named_parameters():
        param.requires_grad_(any(name.startswith(p) or f'.{p}.' in f'.{name}' for p in prefixes))
