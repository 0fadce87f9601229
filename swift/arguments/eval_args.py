"""`swift eval` arguments: the deployment arguments plus 002 "评测参数" and the ms-swift 3.x additions
(eval_dataset_args, eval_generation_config, extra_eval_args)."""
import dataclasses
import os
from dataclasses import dataclass
from typing import List, Literal, Optional, Union

from swift.utils import ArgumentError
from .base_args import _json_arg
from .deploy_args import DeployArguments
from .groups import _help, _list
from .unused import reject_set, same_reason

EVAL_BACKENDS = ('Native', 'OpenCompass', 'VLMEvalKit')


@dataclass
class EvalGroup:
    group_title = 'evaluation arguments'
    eval_backend: Literal['Native', 'OpenCompass', 'VLMEvalKit'] = _help(
        'Native (evalscope), OpenCompass or VLMEvalKit (each needs its package).', default='Native')
    eval_dataset: List[str] = _list('evalscope benchmark names (gsm8k, arc, mmlu, ceval, general_qa, general_mcq, '
                                    '...) and/or our own dataset files (messages / query-response / alpaca jsonl).')
    eval_limit: Optional[int] = _help('Samples per benchmark (and per own dataset); default: all.', default=None)
    eval_dataset_args: Optional[Union[dict, str]] = _help(
        'Per-benchmark evalscope settings as JSON, e.g. \'{"general_qa": {"local_path": "dir", "subset_list": '
        '["test"]}}\'.', default=None)
    dataset_args: Optional[Union[dict, str]] = _help('Older name of --eval_dataset_args.', default=None)
    eval_generation_config: Optional[Union[dict, str]] = _help(
        'Generation settings of the evaluation requests as JSON (max_tokens, temperature, top_p, timeout, ...); '
        'they override --max_new_tokens/--temperature/--top_p.', default=None)
    extra_eval_args: Optional[Union[dict, str]] = _help(
        'Extra evalscope TaskConfig fields as JSON, e.g. \'{"repeats": 2}\'.', default=None)
    eval_output_dir: str = _help('Results go to <eval_output_dir>/<timestamp>/.', default='eval_output')
    local_dataset: bool = _help('OpenCompass: use the data folder in the current directory.', default=False)
    eval_num_proc: int = _help('Concurrent requests of the evaluation client.', default=16)
    eval_url: Optional[str] = _help('Evaluate this OpenAI-compatible endpoint (e.g. http://127.0.0.1:8000/v1, '
                                    'with or without /chat/completions) instead of starting our own server.',
                                    default=None)
    eval_checkpoints: List[str] = _list('Evaluate several checkpoints in one call: checkpoint dirs, or a training '
                                        'output dir (its checkpoint-* dirs); writes a comparison table and plot.')


@dataclass
class EvalArguments(EvalGroup, DeployArguments):
    """Evaluate a model, its adapters/checkpoints, or an OpenAI-compatible endpoint."""
    temperature: Optional[float] = _help('Sampling temperature of the evaluation requests.', default=0.)
    verbose: bool = _help('Log every request of the local server.', default=False)
    split_dataset_ratio: float = _help('Not used by evaluation (every row of --eval_dataset is evaluated).',
                                       default=0.)
    metric: Optional[str] = _help('Metric of our own-format datasets: acc (exact match), rouge (ROUGE-L, '
                                  'BLEU-4), or a --external_plugins metric fn(predictions, references) -> dict; '
                                  'default: rouge.', default=None)

    def __post_init__(self):
        DeployArguments.__post_init__(self)
        for name in ('eval_dataset_args', 'dataset_args', 'eval_generation_config', 'extra_eval_args'):
            if isinstance(getattr(self, name), str):
                setattr(self, name, _json_arg(name, getattr(self, name)))
        if self.dataset_args:
            if self.eval_dataset_args:
                raise ArgumentError('Pass --eval_dataset_args or its older name --dataset_args, not both.')
            self.eval_dataset_args, self.dataset_args = self.dataset_args, None

    def validate(self):
        self._reject_unused()
        if self.eval_url:
            reject_set(self, same_reason(
                ('top_k', 'repetition_penalty', 'stop_words'),
                'with --eval_url the remote server generates; pass settings in --eval_generation_config.'),
                'swift eval')
            reject_set(self, same_reason(
                ('infer_backend', 'max_batch_size', 'merge_lora', 'torch_dtype', 'quant_method', 'template',
                 'ckpt_dir'), 'with --eval_url no local model runs (--model names the served model).'),
                'swift eval')
        else:
            DeployArguments.validate(self)
        if not self.eval_dataset:
            raise ArgumentError('--eval_dataset is required: benchmark names (e.g. gsm8k) or dataset files.')
        for value, name in ((self.eval_limit, 'eval_limit'), (self.eval_num_proc, 'eval_num_proc')):
            if value is not None and value < 1:
                raise ArgumentError(f'--{name} must be >= 1, got {value}.')
        for name in ('eval_dataset_args', 'eval_generation_config', 'extra_eval_args'):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), dict):
                raise ArgumentError(f'--{name} must be a JSON object.')
        if self.local_dataset and self.eval_backend != 'OpenCompass':
            raise ArgumentError('--local_dataset true applies to --eval_backend OpenCompass only.')
        if self.eval_url and (self.eval_checkpoints or self.adapters):
            raise ArgumentError('--eval_url evaluates a running server: drop --eval_checkpoints/--adapters.')

    def _reject_unused(self):
        reasons = same_reason(('dataset', 'val_dataset', 'val_dataset_sample', 'split_dataset_ratio', 'streaming',
                               'result_path'), 'name datasets with --eval_dataset and the size with --eval_limit.')
        reasons.update(same_reason(('host', 'port'), 'the local server always binds a free 127.0.0.1 port.'))
        reasons.update(same_reason(('stream', 'logprobs', 'top_logprobs', 'num_beams'),
                                   'evaluation requests are plain, non-streaming chat completions.'))
        reasons.update(same_reason(('safe_serialization', 'max_shard_size', 'enable_cache', 'ddp_backend',
                                    'tuner_backend'), 'evaluation saves and trains nothing.'))
        reject_set(self, reasons, 'swift eval')

    def resolve(self):
        self.eval_checkpoints = expand_checkpoints(self.eval_checkpoints)
        if self.eval_url or self.eval_checkpoints:  # each checkpoint is resolved on its own (for_checkpoint)
            self._import_plugins()
        else:
            super().resolve()

    def for_checkpoint(self, path: str) -> 'EvalArguments':
        """These arguments for one of --eval_checkpoints: an adapter dir or a full model dir."""
        if os.path.isfile(os.path.join(path, 'adapter_config.json')):
            args = dataclasses.replace(self, eval_checkpoints=[], adapters=list(self.adapters) + [path])
        else:  # a full checkpoint replaces --model
            args = dataclasses.replace(self, eval_checkpoints=[], model=path)
        DeployArguments.resolve(args)
        return args


def expand_checkpoints(paths: List[str]) -> List[str]:
    """Checkpoint dirs in order; a training output dir stands for its checkpoint-* dirs (sorted by step)."""
    out = []
    for path in paths:
        if not os.path.isdir(path):
            raise ArgumentError(f'--eval_checkpoints {path}: directory not found.')
        subs = [d for d in os.listdir(path) if d.startswith('checkpoint-') and d.split('-')[-1].isdigit()]
        if subs:
            out += [os.path.join(path, d) for d in sorted(subs, key=lambda d: int(d.split('-')[-1]))]
        else:
            out.append(path)
    return out
