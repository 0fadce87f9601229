"""Optimizers (`--optimizer`): `fn(args, model, training_args) -> torch.optim.Optimizer`; the trainer still builds
the learning-rate schedule from --lr_scheduler_type. The built-in ones (lorap, galore, apollo, adam_mini,
badam) register themselves in swift.tuners.optim."""
from .registry import PluginRegistry

optimizers: PluginRegistry = PluginRegistry('optimizer', 'optimizer')


def create_optimizer(name: str, args, model, training_args):
    return optimizers.get(name)(args, model, training_args)
