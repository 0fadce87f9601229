"""Evaluation metrics (`--metric`). The built-ins are computed inside the trainer without gathering logits:
'acc' (token/sequence accuracy of the loss pass) and 'nlg' (ROUGE-L/BLEU-4 with --predict_with_generate)."""
from .registry import PluginRegistry

metrics: PluginRegistry = PluginRegistry('metric', 'metric')
metrics['acc'] = 'accuracy counted in the loss pass'
metrics['nlg'] = 'rouge-l and bleu-4 of generated answers (needs --predict_with_generate true)'


def check_metric(name: str) -> None:
    metrics.get(name)
