"""Trainer callbacks the tuners need."""
from transformers import TrainerCallback


def _adalora_model(model):
    """The AdaLoRA PeftModel (it forwards update_and_allocate), unwrapping DDP-style `.module`, or None."""
    while model is not None and not hasattr(model, 'update_and_allocate'):
        model = getattr(model, 'module', None)
    return model


class AdaLoraCallback(TrainerCallback):
    """Calls AdaLoRA's `update_and_allocate(global_step)` after each optimizer step and before `zero_grad`.

    transformers' `on_optimizer_step` fires right after `optimizer.step()`, while the gradients that the
    sensitivity scores need still exist (`model.zero_grad()` follows it).
    """

    def __init__(self, model=None):
        self.model = model

    def on_optimizer_step(self, args, state, control, model=None, **kwargs):
        adalora = _adalora_model(self.model if self.model is not None else model)
        if adalora is None:
            raise RuntimeError('AdaLoraCallback needs a model with an AdaLoRA adapter.')
        adalora.update_and_allocate(state.global_step)
        return control


def tuner_callbacks(args, model) -> list:
    """The callbacks --train_type adalora and --lisa_activated_layers need."""
    callbacks = []
    if getattr(args, 'train_type', None) == 'adalora':
        callbacks.append(AdaLoraCallback(model))
    if getattr(args, 'lisa_activated_layers', 0) > 0:
        from .lisa import LisaCallback
        callbacks.append(LisaCallback(model, args.lisa_activated_layers, args.lisa_step_interval, args.seed))
    return callbacks
