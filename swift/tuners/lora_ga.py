"""LoRA-GA (--init_weights lora-ga): LoRA initialised from the singular vectors of the full-weight gradient,
estimated on --lora_ga_iters batches of --lora_ga_batch_size training samples, so that the first LoRA steps follow
full fine-tuning's gradient direction. The base weights absorb -scaling * B A, so the model's output is unchanged
at initialisation; the saved adapter is converted to plain LoRA (rank 2r) on the original weights, like PiSSA.
"""
import itertools
import math

import torch
from peft.tuners.lora import LoraLayer

from swift.utils import ArgumentError, get_logger

logger = get_logger()


def estimate_gradients(args, model, template, train_dataset) -> dict:
    """{base weight: mean gradient} for every Linear that peft will wrap, on the first training batches."""
    if train_dataset is None or template is None:
        raise ArgumentError('--init_weights lora-ga estimates gradients on the encoded SFT training set, which '
                            'this command does not provide: use swift sft / swift pt.')
    rows = list(itertools.islice(iter(train_dataset), args.lora_ga_batch_size * args.lora_ga_iters))
    if not rows or 'labels' not in rows[0]:
        raise ArgumentError('--init_weights lora-ga estimates gradients on supervised (input_ids, labels) rows: use it '
                            'with swift sft / swift pt.')
    weights = {name: module.weight for name, module in model.named_modules() if isinstance(module, torch.nn.Linear)}
    was_training, grads_before = model.training, {n: p.requires_grad for n, p in model.named_parameters()}
    model.requires_grad_(False)
    for weight in weights.values():
        weight.requires_grad_(True)
    model.train()
    for start in range(0, len(rows), args.lora_ga_batch_size):
        batch = template.data_collator([_truncate(r, args.lora_ga_max_length)
                                        for r in rows[start:start + args.lora_ga_batch_size]])
        batch = {k: v.to(model.device) for k, v in batch.items()
                 if k in ('input_ids', 'attention_mask', 'labels', 'position_ids')}
        model(**batch).loss.backward()
    batches = math.ceil(len(rows) / args.lora_ga_batch_size)
    grads = {name: w.grad.detach() / batches for name, w in weights.items() if w.grad is not None}
    for name, param in model.named_parameters():
        param.grad = None
        param.requires_grad_(grads_before[name])
    model.train(was_training)
    logger.info(f'LoRA-GA: gradients of {len(grads)} weights estimated on {len(rows)} samples.')
    return grads


def _truncate(row: dict, max_length: int) -> dict:
    return {k: (v[:max_length] if k in ('input_ids', 'labels', 'loss_scale') and isinstance(v, list) else v)
            for k, v in row.items()}


@torch.no_grad()
def apply_lora_ga(args, peft_model, grads: dict) -> None:
    """Set lora_A/lora_B from the gradient SVD and subtract their product from the base weights."""
    done = 0
    for name, module in peft_model.named_modules():
        if not isinstance(module, LoraLayer) or 'default' not in module.lora_A:
            continue
        key = name.removeprefix('base_model.model.')
        if key not in grads:
            continue
        _init_layer(args, module, grads[key].float())
        done += 1
    if not done:
        raise ArgumentError('--init_weights lora-ga: no LoRA layer received a gradient; check --target_modules.')


def _init_layer(args, layer, grad):
    rank, scaling = layer.r['default'], layer.scaling['default']
    weight = layer.get_base_layer().weight
    u, _, v = torch.svd_lowrank(grad, q=min(4 * rank, *grad.shape), niter=4)
    v = v.T
    direction = args.lora_ga_direction
    if direction == 'ArBr':
        b, a = u[:, 0:2 * rank:2], v[1:2 * rank:2]
    elif direction == 'A2rBr':
        b, a = u[:, :rank], v[rank:2 * rank]
    elif direction == 'ArB2r':
        b, a = u[:, rank:2 * rank], v[:rank]
    else:
        index = torch.randperm(2 * rank)
        b, a = u[:, index[:rank]], v[index[rank:]]
    if b.shape[1] < rank or a.shape[0] < rank:
        raise ArgumentError(f'--init_weights lora-ga needs 2 * --lora_rank <= the smallest layer width '
                            f'({min(grad.shape)}); lower --lora_rank.')
    a, b = _scale(args, a, b, grad, weight, scaling, rank)
    layer.lora_A['default'].weight.copy_(a.to(weight.dtype))
    layer.lora_B['default'].weight.copy_(b.to(weight.dtype))
    weight.sub_((scaling * b @ a).to(weight.dtype))


def _scale(args, a, b, grad, weight, scaling, rank):
    if args.lora_ga_scale == 'gd':
        return a / scaling, b / scaling
    if args.lora_ga_scale == 'stable':
        factor = grad.shape[0] ** 0.25 / args.lora_ga_stable_gamma ** 0.5
        return a * factor, b * factor
    if args.lora_ga_scale == 'weightS':
        _, s, _ = torch.svd_lowrank(weight.float(), q=min(4 * rank, *weight.shape), niter=4)
        factor = (s[:rank] / scaling).mean().sqrt()
        return a * factor, b * factor
    return a, b  # 'unit'
