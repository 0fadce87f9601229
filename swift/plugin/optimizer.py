"""Optimizers (`--optimizer`): `fn(args, model, training_args) -> torch.optim.Optimizer`; the trainer still builds
the learning-rate schedule from --lr_scheduler_type."""
from .registry import PluginRegistry

optimizers: PluginRegistry = PluginRegistry('optimizer', 'optimizer')


def create_lorap_optimizer(args, model, training_args):
    """LoRA+: lora_B learns --lorap_lr_ratio times faster than lora_A."""
    from swift.tuners import create_optimizer
    return create_optimizer(args, model, training_args)


def create_optimizer(name: str, args, model, training_args):
    return optimizers.get(name)(args, model, training_args)


optimizers['lorap'] = create_lorap_optimizer
