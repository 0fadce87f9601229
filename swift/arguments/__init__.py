"""Argument classes, imported on first use: training ones pull in transformers' TrainingArguments (seconds),
which `swift infer`/`deploy`/`export` do not need."""
import importlib

_EXPORTS = {
    'BaseArguments': 'base_args', 'read_args_json': 'base_args',
    'build_parser': 'parser', 'parse_args': 'parser',
    'TrainArguments': 'train_args', 'SftArguments': 'train_args', 'PtArguments': 'train_args',
    'TunerArguments': 'tuner_args',
    'RLHFArguments': 'rlhf_args',
    'InferArguments': 'infer_args',
    'DeployArguments': 'deploy_args',
    'ExportArguments': 'export_args',
    'EvalArguments': 'eval_args',
    'SampleArguments': 'sample_args',
    'WebUIArguments': 'webui_args',
    'AppArguments': 'app_args',
}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(f'.{_EXPORTS[name]}', __name__), name)
    globals()[name] = value
    return value
