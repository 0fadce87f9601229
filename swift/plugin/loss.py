"""Loss functions (`--loss_type`): `fn(outputs, labels, loss_scale=None, num_items_in_batch=None) -> loss`.
The built-in ones register where they are implemented (swift/trainers/loss.py)."""
from typing import Callable

from .registry import PluginRegistry

loss_funcs: PluginRegistry = PluginRegistry('loss function', 'loss_type')


def get_loss_func(name: str) -> Callable:
    return loss_funcs.get(name)
