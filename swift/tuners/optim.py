"""LoRA+ optimizer: lora_B learns `lorap_lr_ratio` times faster than lora_A (peft's create_loraplus_optimizer)."""
from peft.optimizers import create_loraplus_optimizer
from transformers import Trainer

from swift.plugin.optimizer import optimizers
from swift.utils import ArgumentError


def create_optimizer(args, model, training_args):
    """The trainer calls this instead of building its default optimizer when `args.lorap_lr_ratio` is set.

    The optimizer class and its kwargs (betas, eps, ...) follow `training_args.optim`; weight decay and learning
    rate follow `training_args`.
    """
    if args.lorap_lr_ratio is None:
        raise ArgumentError('create_optimizer builds the LoRA+ optimizer: set --lorap_lr_ratio.')
    optimizer_cls, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(training_args, model)
    optimizer_kwargs.pop('lr', None)
    return create_loraplus_optimizer(model, optimizer_cls, lr=training_args.learning_rate,
                                     loraplus_lr_ratio=args.lorap_lr_ratio,
                                     weight_decay=training_args.weight_decay, **optimizer_kwargs)


optimizers['lorap'] = create_optimizer  # LoRA+: lora_B learns --lorap_lr_ratio times faster than lora_A
