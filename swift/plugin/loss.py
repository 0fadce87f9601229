"""Loss functions (`--loss_type`): `fn(outputs, labels, loss_scale=None, num_items_in_batch=None) -> loss`, the
contract of ms-swift 3.x's `loss_mapping` (the same registry under its name); a function that declares a
`trainer` parameter also gets the trainer, as ms-swift's reranker losses do. The built-in ones register where
they are implemented (swift/trainers/loss.py)."""
from typing import Callable, Optional

from .registry import PluginRegistry

loss_funcs: PluginRegistry = PluginRegistry('loss function', 'loss_type')
loss_mapping = loss_funcs


def get_loss_func(name: Optional[str]) -> Optional[Callable]:
    """None for no name (the model's own loss), as in ms-swift."""
    return loss_funcs.get(name) if name else None
