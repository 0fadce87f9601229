"""Tuners: `prepare_model(args, model)` turns a loaded model into the model to train.

peft provides lora (DoRA, rsLoRA, PiSSA, OLoRA), adalora, vera, boft and fourierft; full and llamapro are ours.
"""
from .adapters import load_adapter_for_training, save_adapter
from .callbacks import AdaLoraCallback, tuner_callbacks
from .optim import builtin_optimizer_name, create_optimizer
from .prepare import SUPPORTED_TRAIN_TYPES, prepare_model
from .summary import get_trainable_summary
