"""Plugin registries, one per extension point; user files add entries through --external_plugins.
ms-swift 3.x names are kept where we implement the feature: `extra_tuners`, `optimizers_map`, `loss_mapping`,
`metric_mapping`, `extra_callbacks`, `loss_scale_map`, `orms`, `prms`, ... (docs/plugins.md has the table);
importing one we lack (multi_turns, envs, ...) fails in the plugin loader with one line saying so (compat.py).
"""
from .callback import build_callbacks, callbacks, extra_callbacks
from .loss import get_loss_func, loss_funcs, loss_mapping
from .loss_scale import loss_scale_map
from .metric import (MeanMetric, Metric, check_metric, compute_acc, compute_rouge_bleu, get_metric, metric_mapping,
                     metrics)
from .optimizer import create_optimizer, create_optimizers, optimizers, optimizers_map
from .orm import ORM, CosineReward, Format, MathAccuracy, RepetitionPenalty, completion_text, extract_answer, orms
from .prm import PRM, prms
from .registry import PluginRegistry
from .tuner import PeftTuner, Tuner, extra_tuners, tuners

# name -> registry, as `swift list plugins` and the plugin loader see them
PLUGIN_REGISTRIES = {'orms': orms, 'prms': prms, 'loss_funcs': loss_funcs, 'metrics': metrics,
                     'optimizers': optimizers, 'callbacks': callbacks, 'tuners': tuners,
                     'loss_scales': loss_scale_map}
