"""Process reward models (PRM): score every step of a solution; used by sampling (`--prm_model`)."""
from abc import ABC, abstractmethod
from typing import List

from .registry import PluginRegistry

prms: PluginRegistry = PluginRegistry('process reward model', 'prm_model')


class PRM(ABC):
    """Base class: `__call__(infer_requests, **kwargs) -> list[float | list[float]]`, one score (or one score per
    step) for each request, whose last assistant message holds the solution to judge."""

    @abstractmethod
    def __call__(self, infer_requests: List, **kwargs) -> List:
        """Scores for each request."""
