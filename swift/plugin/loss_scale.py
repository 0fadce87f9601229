"""Loss-scale strategies (`--loss_scale`), implemented in swift/template/loss_scale.py; the registry lives here
so ms-swift 3.x files can write `loss_scale_map['name'] = MyLossScale`. An entry is a function
`fn(context, context_type, is_last_round, *, query=None) -> (contexts, weights)` or a class whose instances have
that `get_loss_scale` method (ms-swift's LossScale subclasses), built once when registered."""
from swift.utils import ArgumentError

from .registry import PluginRegistry


class LossScaleRegistry(PluginRegistry):

    def register(self, name: str, value, exist_ok: bool = False):
        if isinstance(value, type):
            if not callable(getattr(value, 'get_loss_scale', None)):
                raise ArgumentError(f'loss_scale {name!r}: the class {value.__name__} has no get_loss_scale method.')
            value = value().get_loss_scale
        if not callable(value):
            raise ArgumentError(f'loss_scale {name!r} must be a callable or a class with get_loss_scale.')
        return super().register(name, value, exist_ok=exist_ok)


loss_scale_map: LossScaleRegistry = LossScaleRegistry('loss scale', 'loss_scale')
