"""Plugin registries, one per extension point; user files add entries through --external_plugins.

ms-swift 3.x names: `from swift.plugin import ORM, orms, loss_funcs, get_loss_func, optimizers, ...`.
"""
from .callback import build_callbacks, callbacks
from .loss import get_loss_func, loss_funcs
from .metric import check_metric, get_metric, metrics
from .optimizer import create_optimizer, optimizers
from .orm import ORM, CosineReward, Format, MathAccuracy, RepetitionPenalty, completion_text, extract_answer, orms
from .prm import PRM, prms
from .registry import PluginRegistry
from .tuner import Tuner, tuners

# name -> registry, as `swift list plugins` and the plugin loader see them
PLUGIN_REGISTRIES = {'orms': orms, 'prms': prms, 'loss_funcs': loss_funcs, 'metrics': metrics,
                     'optimizers': optimizers, 'callbacks': callbacks, 'tuners': tuners}
