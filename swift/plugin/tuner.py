"""Tuners beyond the built-in --train_type values: a class with `prepare_model(args, model) -> model`,
`save_pretrained(model, save_directory, state_dict=None, **kw)` and `from_pretrained(model, model_id, **kw) ->
model`, registered as `tuners['name'] = Cls` or, in ms-swift 3.x files, `extra_tuners['name'] = Cls` (the same
registry). PeftTuner is ms-swift's base for tuners whose prepare_model returns a peft model."""
from abc import ABC, abstractmethod

from .registry import PluginRegistry

tuners: PluginRegistry = PluginRegistry('tuner', 'train_type')
extra_tuners = tuners


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


class PeftTuner(Tuner):
    """Saves the peft adapter (the default one, like ms-swift) and loads it back with PeftModel."""

    @staticmethod
    def save_pretrained(model, save_directory: str, state_dict=None, safe_serialization: bool = True,
                        **kwargs) -> None:
        from peft import PeftModel
        if isinstance(model, PeftModel):
            kwargs.setdefault('selected_adapters', ['default'])
        model.save_pretrained(save_directory, state_dict=state_dict, safe_serialization=safe_serialization,
                              **kwargs)

    @staticmethod
    def from_pretrained(model, model_id: str, **kwargs):
        from peft import PeftModel
        return PeftModel.from_pretrained(model, model_id, **kwargs)
