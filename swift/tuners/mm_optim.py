"""--vit_lr / --aligner_lr: one optimizer whose parameter groups give the vision tower and the aligner their own
learning rates (the LLM keeps --learning_rate); the optimizer class and kwargs follow --optim, and transformers'
schedule scales every group alike. Registered in swift.plugin.optimizers as 'multimodal'."""
from typing import Dict, List

from transformers import Trainer

from swift.plugin.optimizer import optimizers
from swift.utils import ArgumentError, get_logger

from .targets import get_multimodal_parts, is_multimodal, part_of

logger = get_logger()
_PEFT_PREFIX = 'base_model.model.'


def _base_name(name: str) -> str:
    """Parameter name in the base model's namespace (peft wraps it as base_model.model.<name>)."""
    return name[len(_PEFT_PREFIX):] if name.startswith(_PEFT_PREFIX) else name


def part_learning_rates(args, base_lr: float) -> Dict[str, float]:
    return {'llm': base_lr, 'vit': args.vit_lr or base_lr, 'aligner': args.aligner_lr or base_lr}


def create_multimodal_optimizer(args, model, training_args):
    base = model.get_base_model() if hasattr(model, 'get_base_model') else model
    if not is_multimodal(base):
        raise ArgumentError('--vit_lr/--aligner_lr set learning rates of a multimodal model\'s vision tower and '
                            'aligner; this model is text-only, drop them.')
    parts = get_multimodal_parts(base)
    lrs = part_learning_rates(args, training_args.learning_rate)
    decay = set(Trainer.get_decay_parameter_names(None, model))
    groups: Dict[tuple, List] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            part = part_of(_base_name(name), parts) or 'llm'
            groups.setdefault((part, name in decay), []).append(param)
    trained = sorted({part for part, _ in groups})
    for part, flag in (('vit', 'vit_lr'), ('aligner', 'aligner_lr')):
        if getattr(args, flag) is not None and part not in trained:
            raise ArgumentError(f'--{flag} {getattr(args, flag)}: nothing of the {part} part trains (it is frozen: '
                                f'--freeze_{part} true by default); add --freeze_{part} false or drop --{flag}.')
    optimizer_cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(training_args, model)
    kwargs.pop('lr', None)
    order = ('llm', 'aligner', 'vit')  # the LLM's group first: the logged learning_rate is group 0's
    param_groups = [{'params': params, 'lr': lrs[part], 'weight_decay': training_args.weight_decay if wd else 0.}
                    for (part, wd), params in sorted(groups.items(), key=lambda kv: (order.index(kv[0][0]),
                                                                                     not kv[0][1]))]
    logger.info('learning rates: ' + ', '.join(f'{p} {lrs[p]:g}' for p in trained) + ' (frozen parts have none)')
    return optimizer_cls(param_groups, lr=training_args.learning_rate, **kwargs)


optimizers['multimodal'] = create_multimodal_optimizer
