"""LISA (layerwise importance sampled AdamW): full training where only `lisa_activated_layers` randomly chosen
decoder layers (plus embeddings, norms and head) train at a time, re-drawn every `lisa_step_interval` steps.

The optimizer is built over every parameter; the callback turns requires_grad off for inactive layers (no
gradient, so AdamW skips them) and drops their Adam state when they are switched off, so only active layers hold
optimizer state.
"""
import random

from transformers import TrainerCallback

from swift.utils import ArgumentError, get_logger
from .llamapro import find_decoder_layers

logger = get_logger()


class LisaCallback(TrainerCallback):

    def __init__(self, model, activated_layers: int, step_interval: int, seed: int = 42):
        _, self.layers = find_decoder_layers(model)
        if activated_layers > len(self.layers):
            raise ArgumentError(f'--lisa_activated_layers {activated_layers} exceeds the model\'s '
                                f'{len(self.layers)} decoder layers.')
        self.activated_layers = activated_layers
        self.step_interval = step_interval
        self.rng = random.Random(seed)
        self.active = []
        self.switched_at = None

    def on_train_begin(self, args, state, control, optimizer=None, **kwargs):
        self.switch(state.global_step, optimizer)
        return control

    def on_step_begin(self, args, state, control, optimizer=None, **kwargs):
        if state.global_step % self.step_interval == 0 and state.global_step != self.switched_at:
            self.switch(state.global_step, optimizer)
        return control

    def switch(self, step: int, optimizer=None):
        self.switched_at = step
        self.active = sorted(self.rng.sample(range(len(self.layers)), self.activated_layers))
        for index, layer in enumerate(self.layers):
            on = index in self.active
            for param in layer.parameters():
                param.requires_grad_(on)
                if not on and optimizer is not None:
                    _drop_state(optimizer, param)
        logger.info(f'LISA: training decoder layers {self.active}')


def _drop_state(optimizer, param):
    optimizer = getattr(optimizer, 'optimizer', optimizer)  # accelerate's AcceleratedOptimizer wraps it
    optimizer.state.pop(param, None)
