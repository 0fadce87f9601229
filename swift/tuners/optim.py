"""Built-in optimizers (registered in swift.plugin.optimizers under these names): LoRA+ ('lorap'), GaLore and
Q-GaLore ('galore'), APOLLO ('apollo'), Adam-mini ('adam_mini') and BAdam ('badam').

`builtin_optimizer_name(args)` picks one from the TunerArguments flags; the trainer builds it in create_optimizer
and transformers builds the learning-rate schedule over it (a per-parameter GaLore/APOLLO run steps inside
backward hooks behind transformers' LayerWiseDummyOptimizer, whose schedule transformers also handles).
"""
from typing import Dict, List

import torch
from torch import nn
from transformers import Trainer
from transformers.trainer_pt_utils import LayerWiseDummyOptimizer

from swift.plugin.optimizer import optimizers
from swift.utils import ArgumentError, get_logger

logger = get_logger()


def builtin_optimizer_name(args):
    """The built-in optimizer the flags select, or None (transformers' --optim)."""
    flags = [('galore', getattr(args, 'use_galore', False)), ('apollo', getattr(args, 'use_apollo', False)),
             ('adam_mini', getattr(args, 'use_adam_mini', False)), ('badam', getattr(args, 'use_badam', False)),
             ('lorap', getattr(args, 'lorap_lr_ratio', None) is not None),
             ('multimodal', getattr(args, 'vit_lr', None) is not None or getattr(args, 'aligner_lr', None) is not None)]
    return next((name for name, on in flags if on), None)  # TunerArguments.validate allows one


def create_optimizer(args, model, training_args):
    """LoRA+: lora_B learns `lorap_lr_ratio` times faster than lora_A (peft's create_loraplus_optimizer); the
    optimizer class and kwargs follow `training_args.optim`."""
    from peft.optimizers import create_loraplus_optimizer
    if args.lorap_lr_ratio is None:
        raise ArgumentError('create_optimizer builds the LoRA+ optimizer: set --lorap_lr_ratio.')
    optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(training_args, model)
    optimizer_kwargs.pop('lr', None)
    return create_loraplus_optimizer(model, optimizer_cls, lr=training_args.learning_rate,
                                     loraplus_lr_ratio=args.lorap_lr_ratio,
                                     weight_decay=training_args.weight_decay, **optimizer_kwargs)


def _adam_kwargs(training_args) -> dict:
    return {'lr': training_args.learning_rate, 'betas': (training_args.adam_beta1, training_args.adam_beta2),
            'eps': training_args.adam_epsilon}


def _low_rank_params(model, targets: List[str], with_embedding: bool, flag: str) -> List[nn.Parameter]:
    """Weights of trainable Linear (and, when asked, Embedding) modules whose name contains a target."""
    kinds = (nn.Linear, nn.Embedding) if with_embedding else (nn.Linear, )
    output = model.get_output_embeddings()
    params = []
    for name, module in model.named_modules():
        if not isinstance(module, kinds) or module is output or not module.weight.requires_grad:
            continue
        if isinstance(module, nn.Embedding) or 'all' in targets or any(t in name for t in targets):
            params.append(module.weight)
    if not params:
        raise ArgumentError(f'{flag} {" ".join(targets)} matches no trainable Linear module; use names like '
                            "'q_proj' or 'mlp' (or 'all').")
    return params


def _param_groups(model, low_rank: List[nn.Parameter], low_rank_kwargs: dict, weight_decay: float) -> List[dict]:
    ids = {id(p) for p in low_rank}
    decay = set(Trainer.get_decay_parameter_names(None, model))
    rest = [(n, p) for n, p in model.named_parameters() if p.requires_grad and id(p) not in ids]
    groups = [{'params': low_rank, 'weight_decay': weight_decay, **low_rank_kwargs},
              {'params': [p for n, p in rest if n in decay], 'weight_decay': weight_decay},
              {'params': [p for n, p in rest if n not in decay], 'weight_decay': 0.0}]
    return [g for g in groups if g['params']]


def _layerwise(optimizer_cls, groups: List[dict], kwargs: dict, training_args):
    """One optimizer per parameter, stepped in its post-accumulate-grad hook: no full-model gradient is kept."""
    if training_args.gradient_accumulation_steps != 1:
        raise ArgumentError('Per-parameter GaLore/APOLLO steps inside backward: set --gradient_accumulation_steps 1.')
    optimizer_dict: Dict[nn.Parameter, torch.optim.Optimizer] = {}
    for group in groups:
        for param in group['params']:
            optimizer_dict[param] = optimizer_cls([{**group, 'params': [param]}], **kwargs)

    def hook(param):
        if param.grad is not None:
            optimizer_dict[param].step()
            optimizer_dict[param].zero_grad()
    for param in optimizer_dict:
        param.register_post_accumulate_grad_hook(hook)
    return LayerWiseDummyOptimizer(optimizer_dict=optimizer_dict, lr=kwargs['lr'])


def create_galore_optimizer(args, model, training_args):
    """GaLore (galore-torch's AdamW, or its 8-bit / Adafactor variant following --optim) or, with
    --galore_quantization, Q-GaLore (q-galore-torch's 8-bit AdamW with an int-quantised projection)."""
    targets = args.galore_target_modules or ['attn', 'mlp']
    low_rank = _low_rank_params(model, targets, args.galore_with_embedding, '--galore_target_modules')
    low_rank_kwargs = {'rank': args.galore_rank, 'update_proj_gap': args.galore_update_proj_gap,
                       'scale': args.galore_scale, 'proj_type': args.galore_proj_type}
    kwargs = _adam_kwargs(training_args)
    if args.galore_quantization:
        optimizer_cls = _q_galore_cls()
        low_rank_kwargs.update(quant=args.galore_proj_quant, quant_n_bit=args.galore_proj_bits,
                               quant_group_size=args.galore_proj_group_size, cos_threshold=args.galore_cos_threshold,
                               gamma_proj=args.galore_gamma_proj, queue_size=args.galore_queue_size)
    else:
        optimizer_cls, kwargs = _galore_cls(training_args.optim, kwargs)
    groups = _param_groups(model, low_rank, low_rank_kwargs, training_args.weight_decay)
    logger.info(f'GaLore on {len(low_rank)} weights (rank {args.galore_rank}, {optimizer_cls.__name__}).')
    if args.galore_optim_per_parameter:
        return _layerwise(optimizer_cls, groups, kwargs, training_args)
    return optimizer_cls(groups, **kwargs)


def _galore_cls(optim: str, kwargs: dict):
    from galore_torch import GaLoreAdafactor, GaLoreAdamW, GaLoreAdamW8bit
    optim = str(getattr(optim, 'value', optim))
    if 'adafactor' in optim:
        return GaLoreAdafactor, {'lr': kwargs['lr'], 'scale_parameter': False, 'relative_step': False}
    if '8bit' in optim:
        return GaLoreAdamW8bit, kwargs
    if 'adamw' in optim:
        return GaLoreAdamW, {**kwargs, 'no_deprecation_warning': True}
    raise ArgumentError(f'--use_galore works with --optim adamw_torch, adamw_8bit or adafactor, not {optim}.')


def _q_galore_cls():
    if not torch.cuda.is_available():
        raise ArgumentError('--galore_quantization (Q-GaLore) needs a CUDA GPU: q-galore-torch\'s 8-bit optimizer '
                            'synchronises CUDA every step; use plain GaLore here.')
    from q_galore_torch import QGaLoreAdamW8bit
    return QGaLoreAdamW8bit


def create_apollo_optimizer(args, model, training_args):
    """APOLLO (apollo-torch): AdamW with channel- or tensor-wise gradient scaling estimated in a random/SVD
    low-rank space, LLaMA-Factory's apollo_* arguments."""
    from apollo_torch import APOLLOAdamW
    targets = [t.strip() for t in args.apollo_target.split(',') if t.strip()]
    low_rank = _low_rank_params(model, targets, False, '--apollo_target')
    low_rank_kwargs = {'rank': args.apollo_rank, 'proj': args.apollo_proj, 'proj_type': args.apollo_proj_type,
                       'update_proj_gap': args.apollo_update_interval, 'scale': args.apollo_scale,
                       'scale_type': args.apollo_scale_type}
    kwargs = {**_adam_kwargs(training_args), 'scale_front': args.apollo_scale_front}
    groups = _param_groups(model, low_rank, low_rank_kwargs, training_args.weight_decay)
    logger.info(f'APOLLO on {len(low_rank)} weights (rank {args.apollo_rank}, {args.apollo_proj} projection).')
    if args.apollo_layerwise:
        return _layerwise(APOLLOAdamW, groups, kwargs, training_args)
    return APOLLOAdamW(groups, **kwargs)


def create_adam_mini_optimizer(args, model, training_args):
    """Adam-mini (adam-mini): one second-moment value per parameter block (head, neuron), about half of AdamW's
    optimizer state."""
    from adam_mini import Adam_mini
    config = model.config.get_text_config()
    heads = config.num_attention_heads
    optimizer = Adam_mini(named_parameters=[(n, p) for n, p in model.named_parameters() if p.requires_grad],
                          weight_decay=training_args.weight_decay, dim=config.hidden_size, n_heads=heads,
                          n_kv_heads=getattr(config, 'num_key_value_heads', None) or heads, verbose=False,
                          **_adam_kwargs(training_args))
    return optimizer


def create_badam_optimizer(args, model, training_args):
    """BAdam (badam): block coordinate descent over the decoder layers ('layer' mode) or a sparse mask of every
    weight ('ratio' mode); only the active block holds gradients and Adam state."""
    from badam import BlockOptimizer, BlockOptimizerRatio
    if args.train_type != 'full':
        raise ArgumentError('--use_badam trains the full model block by block: set --train_type full.')
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = set(Trainer.get_decay_parameter_names(None, model))
    groups = [{'params': [p for n, p in named if n in decay], 'weight_decay': training_args.weight_decay},
              {'params': [p for n, p in named if n not in decay], 'weight_decay': 0.0}]
    kwargs = _adam_kwargs(training_args)
    if args.badam_mode == 'layer':
        base = torch.optim.AdamW(groups, **kwargs)
        return BlockOptimizer(base_optimizer=base, named_parameters_list=named, block_prefix_list=None,
                              switch_block_every=args.badam_switch_interval, start_block=args.badam_start_block,
                              switch_mode=args.badam_switch_mode, verbose=args.badam_verbose)
    # badam freezes the embedding and lm_head in ratio mode; a tied head has no parameter of its own.
    tied = not any('lm_head' in n for n, _ in named)
    return BlockOptimizerRatio(param_groups=groups, named_parameters_list=named,
                               switch_every=args.badam_switch_interval, update_ratio=args.badam_update_ratio,
                               mask_mode=args.badam_mask_mode, verbose=args.badam_verbose, include_lm_head=tied,
                               **kwargs)


optimizers['lorap'] = create_optimizer
optimizers['galore'] = create_galore_optimizer
optimizers['apollo'] = create_apollo_optimizer
optimizers['adam_mini'] = create_adam_mini_optimizer
optimizers['badam'] = create_badam_optimizer
