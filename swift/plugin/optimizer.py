"""Optimizers (`--optimizer`): `fn(args, model, training_args) -> torch.optim.Optimizer`; the trainer still builds
the learning-rate schedule from --lr_scheduler_type. The built-in ones (lorap, galore, apollo, adam_mini,
badam, multimodal) register themselves in swift.tuners.

ms-swift 3.x plugins register through `optimizers_map['name'] = fn` with ms-swift's contract
`fn(args, model, dataset) -> (optimizer, lr_scheduler or None)`, where `args` is the trainer's TrainingArguments
(ms-swift's also carry vit_lr, aligner_lr, ...): here it is a view reading the transformers TrainingArguments
first and our swift arguments second, and `dataset` is the encoded train dataset. Those entries land in
`optimizers` wrapped as MsSwiftOptimizer, so `--optimizer name` finds them either way."""
from typing import Any, Callable, Optional, Tuple

from swift.utils import ArgumentError

from .registry import PluginRegistry

optimizers: PluginRegistry = PluginRegistry('optimizer', 'optimizer')


class TrainingArgsView:
    """ms-swift's TrainingArguments: the transformers TrainingArguments' attributes, then the swift arguments'."""

    def __init__(self, training_args, swift_args):
        object.__setattr__(self, '_sources', (training_args, swift_args))

    def __getattr__(self, name: str):
        for source in self._sources:
            if source is not None and hasattr(source, name):
                return getattr(source, name)
        raise AttributeError(f'the optimizer plugin read args.{name}, which neither the TrainingArguments nor the '
                             'swift arguments have.')

    def __setattr__(self, name: str, value) -> None:
        training_args, swift_args = self._sources
        setattr(training_args if hasattr(training_args, name) or swift_args is None else swift_args, name, value)


class MsSwiftOptimizer:
    """An `optimizers_map` entry (ms-swift contract) as an `optimizers` entry."""

    def __init__(self, fn: Callable):
        if not callable(fn):
            raise ArgumentError(f'optimizers_map entries are functions (args, model, dataset) -> (optimizer, '
                                f'lr_scheduler); got {fn!r}.')
        self.fn = fn

    def __call__(self, args, model, training_args, train_dataset=None) -> Tuple[Any, Any]:
        result = self.fn(TrainingArgsView(training_args, args), model, train_dataset)
        name = getattr(self.fn, '__name__', repr(self.fn))
        if not (isinstance(result, tuple) and len(result) == 2):
            raise ArgumentError(f'optimizer plugin {name} returned {type(result).__name__}; an optimizers_map '
                                'function returns (optimizer, lr_scheduler or None).')
        if result[0] is None and result[1] is not None:
            raise ArgumentError(f'optimizer plugin {name} returned a learning-rate scheduler without an optimizer.')
        return result


class _OptimizersMap:
    """`optimizers_map`: writes wrap into `optimizers`; reads give back what was registered."""

    def __setitem__(self, name: str, fn: Callable) -> None:
        optimizers[name] = MsSwiftOptimizer(fn)

    def __getitem__(self, name: str) -> Callable:
        value = optimizers.get(name)
        return value.fn if isinstance(value, MsSwiftOptimizer) else value

    def __contains__(self, name) -> bool:
        return name in optimizers

    def __iter__(self):
        return iter(optimizers)

    def keys(self):
        return optimizers.keys()


optimizers_map = _OptimizersMap()


def create_optimizer(name: str, args, model, training_args):
    """A built-in (or our-contract plugin) optimizer alone."""
    return optimizers.get(name)(args, model, training_args)


def create_optimizers(name: str, args, model, training_args, train_dataset=None) -> Tuple[Any, Optional[Any]]:
    """(optimizer, lr_scheduler or None) for --optimizer `name`, whichever contract it was registered with."""
    fn = optimizers.get(name)
    if isinstance(fn, MsSwiftOptimizer):
        return fn(args, model, training_args, train_dataset)
    return fn(args, model, training_args), None
