"""Tuners: `prepare_model(args, model)` turns a loaded model into the model to train.

peft provides lora (DoRA, rsLoRA, PiSSA, OLoRA, LoRA-GA init), longlora (with our S2-Attn), adalora, vera, boft
and fourierft; full, llamapro, adapter and reft are ours; optim.py registers GaLore, APOLLO, Adam-mini, BAdam, LoRA+;
mm_optim.py the per-part learning rates of multimodal models (--vit_lr, --aligner_lr).
"""
from .adapters import load_adapter_for_training, merge_into_base, save_adapter, stacked_base_adapters
from .callbacks import AdaLoraCallback, tuner_callbacks
from .hooked import hook_tuner_type, is_hooked, load_hook_tuner, save_hook_tuner
from .optim import builtin_optimizer_name, create_optimizer
from . import mm_optim  # noqa: F401  (registers the --vit_lr/--aligner_lr optimizer)
from .prepare import prepare_model
from .summary import get_trainable_summary
from .swift_api import *  # noqa: F401,F403  ms-swift 3.x names: Swift, LoraConfig, PeftModel, ...
from .swift_api import load_plugin_tuner
