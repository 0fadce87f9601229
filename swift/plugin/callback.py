"""Trainer callbacks: every registered entry (a TrainerCallback class, built as `cls(args)` when it takes one
argument, else `cls()`) is added to the trainers of `swift sft` and `swift rlhf`, and each is logged.
ms-swift 3.x plugins append callbacks (instances, or classes transformers builds) to the list
`extra_callbacks`; they are added after the registered ones, in list order."""
import inspect
from typing import List

from swift.utils import get_logger

from .registry import PluginRegistry

logger = get_logger()

callbacks: PluginRegistry = PluginRegistry('callback', 'external_plugins')
extra_callbacks: List = []


def extra_callback_names() -> List[str]:
    """Names for the plugin loader and `swift list plugins`: position-qualified, so two of one class differ."""
    return [f'{getattr(cb, "__name__", type(cb).__name__)}[{i}]' for i, cb in enumerate(extra_callbacks)]


def build_callbacks(args) -> List:
    built = []
    for name, cls in callbacks.items():
        params = [p for p in inspect.signature(cls).parameters.values()
                  if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        built.append(cls(args) if params else cls())
        logger.info(f'callback plugin: {name}')
    for name, callback in zip(extra_callback_names(), extra_callbacks):
        built.append(callback)
        logger.info(f'callback plugin (extra_callbacks): {name}')
    return built
