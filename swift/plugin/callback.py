"""Trainer callbacks: every registered entry (a TrainerCallback class, built as `cls(args)` when it takes one
argument, else `cls()`) is added to the trainers of `swift sft` and `swift rlhf`, and each is logged."""
import inspect
from typing import List

from swift.utils import get_logger
from .registry import PluginRegistry

logger = get_logger()
callbacks: PluginRegistry = PluginRegistry('callback', 'external_plugins')


def build_callbacks(args) -> List:
    built = []
    for name, cls in callbacks.items():
        params = [p for p in inspect.signature(cls).parameters.values()
                  if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        built.append(cls(args) if params else cls())
        logger.info(f'callback plugin: {name}')
    return built
