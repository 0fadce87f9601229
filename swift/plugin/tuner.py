"""Tuners beyond the built-in --train_type values (ms-swift `extra_tuners`): a class with
`prepare_model(args, model) -> model`, `save_pretrained(model, save_directory, state_dict=None, **kw)` and
`from_pretrained(model, model_id, **kw) -> model`."""
from .registry import PluginRegistry

tuners: PluginRegistry = PluginRegistry('tuner', 'train_type')


class Tuner:

    @staticmethod
    def prepare_model(args, model):
        raise NotImplementedError

    @staticmethod
    def save_pretrained(model, save_directory: str, state_dict=None, **kwargs) -> None:
        model.save_pretrained(save_directory, state_dict=state_dict, **kwargs)

    @staticmethod
    def from_pretrained(model, model_id: str, **kwargs):
        raise NotImplementedError
