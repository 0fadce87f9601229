"""Loss functions (`--loss_type`): `fn(outputs, labels, loss_scale=None, num_items_in_batch=None) -> loss`."""
from typing import Callable

from .registry import PluginRegistry

loss_funcs: PluginRegistry = PluginRegistry('loss function', 'loss_type')


def get_loss_func(name: str) -> Callable:
    return loss_funcs.get(name)


def cross_entropy(outputs, labels, loss_scale=None, num_items_in_batch=None):
    """Shifted token cross entropy weighted by loss_scale (what `swift sft` computes without --loss_type)."""
    from swift.trainers.loss import causal_lm_loss
    return causal_lm_loss(outputs.logits, labels, loss_scale, num_items_in_batch)


loss_funcs['cross_entropy'] = cross_entropy
