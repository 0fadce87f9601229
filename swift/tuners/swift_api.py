"""ms-swift 3.x's `swift.tuners` surface for plugin files: `Swift.prepare_model(model, config)` and
`Swift.from_pretrained(model, model_id)` with peft configs (ms-swift hands peft configs to peft exactly so), and
the peft config/model classes under the names ms-swift re-exports. ms-swift's own tuner configs (SwiftConfig,
AdapterConfig, ...) are not implemented: importing one fails in the plugin loader with one line
(swift/plugin/compat.py)."""
from typing import Dict, Optional, Union

from peft import (AdaLoraConfig, BOFTConfig, FourierFTConfig, IA3Config, LoftQConfig, LoHaConfig, LoKrConfig,
                  LoraConfig, OFTConfig, PeftConfig, PeftModel, PeftModelForCausalLM, PeftModelForSeq2SeqLM,
                  PeftModelForSequenceClassification, PeftModelForTokenClassification, PrefixTuningConfig,
                  PromptEncoderConfig, PromptLearningConfig, PromptTuningConfig, TaskType, VeraConfig,
                  get_peft_config, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict)

from swift.utils import ArgumentError

from .hooked import hook_tuner_type, load_hook_tuner

__all__ = ['Swift', 'AdaLoraConfig', 'BOFTConfig', 'FourierFTConfig', 'IA3Config', 'LoftQConfig', 'LoHaConfig',
           'LoKrConfig', 'LoraConfig', 'OFTConfig', 'PeftConfig', 'PeftModel', 'PeftModelForCausalLM',
           'PeftModelForSeq2SeqLM', 'PeftModelForSequenceClassification', 'PeftModelForTokenClassification',
           'PrefixTuningConfig', 'PromptEncoderConfig', 'PromptLearningConfig', 'PromptTuningConfig', 'TaskType',
           'VeraConfig', 'get_peft_config', 'get_peft_model', 'get_peft_model_state_dict',
           'set_peft_model_state_dict']


def _peft_config(name: str, config) -> PeftConfig:
    if not isinstance(config, PeftConfig):
        raise ArgumentError(f'Swift.prepare_model: adapter {name!r} has a {type(config).__name__}; only peft configs '
                            '(LoraConfig, IA3Config, ...) are supported here, not ms-swift\'s own tuner configs.')
    return config


class Swift:

    @staticmethod
    def prepare_model(model, config: Union[PeftConfig, Dict[str, PeftConfig]], **kwargs) -> PeftModel:
        """`get_peft_model(model, config)`; a dict {adapter_name: config} adds every adapter (the first active)."""
        if not isinstance(config, dict):
            return get_peft_model(model, _peft_config('default', config), **kwargs)
        if not config:
            raise ArgumentError('Swift.prepare_model: the dict of adapter configs is empty.')
        (first, first_config), *rest = config.items()
        model = get_peft_model(model, _peft_config(first, first_config), adapter_name=first, **kwargs)
        for name, adapter_config in rest:
            model.add_adapter(name, _peft_config(name, adapter_config))
        return model

    @staticmethod
    def from_pretrained(model, model_id: str, adapter_name: Optional[str] = None, revision: Optional[str] = None,
                        **kwargs):
        """The adapter saved in `model_id` attached to `model`: peft's PeftModel.from_pretrained, or our
        adapter/reft loader for directories those tuners saved."""
        if hook_tuner_type(model_id):
            return load_hook_tuner(model, model_id, is_trainable=kwargs.get('is_trainable', False))
        if revision is not None:
            kwargs['revision'] = revision
        return PeftModel.from_pretrained(model, model_id, adapter_name=adapter_name or 'default', **kwargs)

    @staticmethod
    def merge_and_unload(model, **kwargs):
        return model.merge_and_unload(**kwargs)


def load_plugin_tuner(train_type: str, model, adapter_dirs, merge: bool = False):
    """Checkpoints of an --external_plugins tuner (train_type read back from their args.json) load through the
    plugin's from_pretrained, as in ms-swift: it may restore more than the peft adapter (e.g. a fully trained
    vision tower). None when `train_type` is not a plugin tuner; with `merge`, peft adapters are merged in."""
    from swift.plugin import tuners
    if train_type not in tuners or not adapter_dirs:
        return None
    tuner = tuners.get(train_type)
    for path in adapter_dirs:
        model = tuner.from_pretrained(model, path)
    if merge and isinstance(model, PeftModel):
        model = model.merge_and_unload()
    return model.eval()
