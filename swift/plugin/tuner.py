"""Tuners beyond the built-in --train_type values (ms-swift `extra_tuners`): a class with
`prepare_model(args, model) -> model`, `save_pretrained(model, save_directory, state_dict=None, **kw)` and
`from_pretrained(model, model_id, **kw) -> model`."""
from abc import ABC, abstractmethod

from .registry import PluginRegistry

tuners: PluginRegistry = PluginRegistry('tuner', 'train_type')


class Tuner(ABC):
    """Register the class itself: `tuners['my_tuner'] = MyTuner`; selected with `--train_type my_tuner`."""

    @staticmethod
    @abstractmethod
    def prepare_model(args, model):
        """Return the model to train, with the tuner attached and only its parameters trainable."""

    @staticmethod
    def save_pretrained(model, save_directory: str, state_dict=None, **kwargs) -> None:
        model.save_pretrained(save_directory, state_dict=state_dict, **kwargs)

    @staticmethod
    @abstractmethod
    def from_pretrained(model, model_id: str, **kwargs):
        """Load what save_pretrained wrote onto `model` (used by inference and export)."""
