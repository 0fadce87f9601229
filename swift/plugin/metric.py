"""Evaluation metrics (`--metric`). The built-ins are computed inside the trainer without gathering logits:
'acc' (token/sequence accuracy of the loss pass) and 'nlg' (ROUGE-L/BLEU-4 with --predict_with_generate).
A plugin metric is ms-swift's pair `(compute_metrics, preprocess_logits_for_metrics)` or a bare
`compute_metrics(eval_prediction) -> dict`, handed to the transformers Trainer; ms-swift 3.x files register it
through `metric_mapping`, the same registry. Metric, MeanMetric, compute_acc and compute_rouge_bleu are ms-swift's
helpers for writing such functions (metric_helpers.py)."""
from .metric_helpers import MeanMetric, Metric, compute_acc, compute_rouge_bleu  # noqa: F401
from .registry import PluginRegistry

metrics: PluginRegistry = PluginRegistry('metric', 'metric')
metric_mapping = metrics
metrics['acc'] = 'accuracy counted in the loss pass'
metrics['nlg'] = 'rouge-l and bleu-4 of generated answers (needs --predict_with_generate true)'
BUILTIN_METRICS = ('acc', 'nlg')


def check_metric(name: str) -> None:
    metrics.get(name)


def get_metric(name: str):
    """(compute_metrics, preprocess_logits_for_metrics); (None, None) for the built-ins."""
    value = metrics.get(name)
    if name in BUILTIN_METRICS:
        return None, None
    if isinstance(value, (tuple, list)):
        return value[0], (value[1] if len(value) > 1 else None)
    return value, None
