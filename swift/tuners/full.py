"""Full training: everything trainable, then freeze by prefix / ratio / multimodal part, then re-open prefixes."""
from typing import List

from swift.utils import ArgumentError
from .targets import frozen_parts, get_multimodal_parts, is_multimodal, part_of


def _matches(name: str, prefixes: List[str]) -> bool:
    return any(name.startswith(p) for p in prefixes)


def prepare_full(args, model):
    # Prefixes match every name of a tied weight (lm_head.weight too); the ratio counts each tensor once.
    params = list(model.named_parameters(remove_duplicate=False))
    for _, param in params:
        param.requires_grad_(True)
    _freeze_parts(args, model, params)
    freeze = list(args.freeze_parameters)
    _check_prefixes(freeze, params, '--freeze_parameters')
    _check_prefixes(args.trainable_parameters, params, '--trainable_parameters')
    for name, param in params:
        if _matches(name, freeze):
            param.requires_grad_(False)
    _freeze_ratio(list(model.named_parameters()), args.freeze_parameters_ratio)
    for name, param in params:  # trainable_parameters wins over both kinds of freezing
        if _matches(name, args.trainable_parameters):
            param.requires_grad_(True)
    return model


def _freeze_parts(args, model, params):
    if not is_multimodal(model):
        return
    parts = get_multimodal_parts(model)
    skip = frozen_parts(args)
    for name, param in params:
        if part_of(name, parts) in skip:
            param.requires_grad_(False)


def _freeze_ratio(params, ratio: float):
    """Freeze the first `ratio` of all parameter elements, in parameter (bottom-up) order."""
    if ratio <= 0:
        return
    budget = int(sum(p.numel() for _, p in params) * ratio)
    frozen = 0
    for _, param in params:
        if frozen + param.numel() > budget and ratio < 1:
            break
        param.requires_grad_(False)
        frozen += param.numel()


def _check_prefixes(prefixes: List[str], params, flag: str):
    names = [n for n, _ in params]
    for prefix in prefixes:
        if not any(_matches(n, [prefix]) for n in names):
            raise ArgumentError(f'{flag} {prefix!r} matches no parameter name; names look like {names[0]!r}.')
