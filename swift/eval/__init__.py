"""Evaluation against an OpenAI endpoint (our own server in-process, or --eval_url): evalscope benchmarks
(Native / OpenCompass / VLMEvalKit) and our own dataset files; result tables, JSON reports, comparison plots."""
from .custom import is_dataset_file, resolve_metric, run_custom
from .endpoint import LocalServer, list_models, normalize_url
from .native import check_backend, check_benchmarks, run_backend, run_native
from .report import comparison, format_comparison, format_table, plot_comparison, write_report

__all__ = ['is_dataset_file', 'resolve_metric', 'run_custom', 'LocalServer', 'list_models', 'normalize_url',
           'check_backend', 'check_benchmarks', 'run_backend', 'run_native', 'comparison', 'format_comparison',
           'format_table', 'plot_comparison', 'write_report']
