"""`swift sample` arguments: the inference arguments plus 002 "采样参数" and its MCTS group."""
import os
from dataclasses import dataclass
from typing import List, Literal, Optional, Union

from swift.utils import ArgumentError
from .base_args import _json_arg
from .groups import _help, _list
from .infer_args import InferArguments
from .unused import reject_set, same_reason


@dataclass
class SamplingGroup:
    group_title = 'sampling arguments'
    prm_model: Optional[str] = _help('Process reward model: a reward-model checkpoint dir (a seq_cls model run '
                                     'in-process), or a PRM registered by --external_plugins (prms[name] = cls).',
                                     default=None)
    orm_model: Optional[str] = _help('Outcome reward: an ORM plugin name (e.g. accuracy against the `solution` '
                                     'column) or one from --external_plugins.', default=None)
    sampler_type: Literal['sample', 'mcts', 'distill'] = _help(
        'sample (n completions per prompt), mcts (tree search over steps), distill (a teacher behind client).',
        default='sample')
    sampler_engine: Literal['pt', 'vllm', 'lmdeploy', 'client', 'no'] = _help(
        'Engine that generates; client: any OpenAI-compatible --base_url; no: score --cache_files only.',
        default='pt')
    output_dir: str = _help('Output folder.', default='sample_output')
    output_file: Optional[str] = _help('Output file name (jsonl, no folder); default: a timestamp.', default=None)
    override_exist_file: bool = _help('Overwrite --output_file when it exists.', default=False)
    num_sampling_per_gpu_batch_size: int = _help('Prompts sent to the engine per batch.', default=1)
    num_sampling_per_gpu_batches: Optional[int] = _help('Stop after this many batches; default: all rows.',
                                                        default=None)
    n_best_to_keep: int = _help('Best completions kept per prompt.', default=5)
    data_range: List[int] = _list('`i n`: process shard i (0-based) of n equal shards of the dataset.')
    prm_threshold: float = _help('Completions whose PRM score is below this are dropped.', default=0.)
    easy_query_threshold: Optional[float] = _help(
        'Drop prompts whose share of ORM-correct samples is above this; default: keep all.', default=None)
    engine_kwargs: Optional[Union[dict, str]] = _help('Extra engine constructor arguments as JSON.', default=None)
    num_return_sequences: int = _help('Completions drawn per prompt (sample).', default=64)
    cache_files: List[str] = _list('Raw samples of an earlier run (no ORM/PRM) to score with --sampler_engine no.')
    output_rejected: bool = _help('Also write the worst kept completion as `rejected_response` (DPO data).',
                                  default=False)


@dataclass
class MctsGroup:
    group_title = 'MCTS arguments (--sampler_type mcts)'
    rollout_depth: int = _help('Max steps of one rollout.', default=5)
    rollout_start_depth: int = _help('Nodes above this depth are only expanded, not rolled out.', default=3)
    max_iterations: int = _help('MCTS iterations per prompt.', default=100)
    process_reward_rate: float = _help('Weight of the PRM score in a node value (0: ORM only).', default=0.)
    exploration_rate: float = _help('UCT exploration constant.', default=0.5)
    api_key: str = _help('API key of --sampler_engine client.', default='EMPTY')
    base_url: str = _help('Base URL of --sampler_engine client.',
                          default='https://dashscope.aliyuncs.com/compatible-mode/v1')


@dataclass
class SampleArguments(SamplingGroup, MctsGroup, InferArguments):
    """Sample completions from a model and score them with outcome/process reward models."""
    rejected_fields = {
        'result_path': 'not read by swift sample: results go to --output_dir/--output_file; drop it.',
        'metric': 'not read by swift sample: score samples with --orm_model; drop it.',
        'val_dataset_sample': 'not read by swift sample: pick rows with `--dataset path#N` or --data_range; '
                              'drop it.',
    }
    temperature: Optional[float] = _help('Sampling temperature.', default=1.0)
    split_dataset_ratio: float = _help('Not used by sampling (every row of --dataset is sampled).', default=0.)

    def __post_init__(self):
        InferArguments.__post_init__(self)
        if isinstance(self.engine_kwargs, str):
            self.engine_kwargs = _json_arg('engine_kwargs', self.engine_kwargs)

    def validate(self):
        self.check_rejected()
        reject_set(self, {'infer_backend': 'pick the engine with --sampler_engine.',
                          'split_dataset_ratio': 'every row of --dataset is sampled; drop it.'}, 'swift sample')
        # build_engine would pass these on as engine defaults; sampling draws whole samples without them
        reject_set(self, same_reason(('stream', 'num_beams', 'logprobs', 'top_logprobs'),
                                     'samples are drawn whole, not searched or scored by log-probabilities; '
                                     'drop it.'), 'swift sample')
        self._validate_sampling()
        if self.sampler_engine not in ('pt', 'vllm', 'lmdeploy'):
            reason = f'--sampler_engine {self.sampler_engine} runs no local model.'
            reject_set(self, same_reason(('adapters', 'merge_lora', 'max_batch_size'), reason), 'swift sample')
        if self.sampler_engine != 'no':
            InferArguments.validate(self)

    def _validate_sampling(self):
        if not (self.dataset or self.val_dataset):
            raise ArgumentError('--dataset is required (also with --cache_files: rows are matched by their hash).')
        if self.data_range and (len(self.data_range) != 2 or not 0 <= self.data_range[0] < self.data_range[1]):
            raise ArgumentError(f'--data_range takes `i n` with 0 <= i < n (shard i of n), got {self.data_range}.')
        if self.output_file is not None and (os.path.dirname(self.output_file) or
                                             not self.output_file.endswith('.jsonl')):
            raise ArgumentError(f'--output_file {self.output_file}: a file name ending in .jsonl, without a folder '
                                '(the folder is --output_dir).')
        if self.sampler_engine == 'no' and not self.cache_files:
            raise ArgumentError('--sampler_engine no scores earlier samples: pass --cache_files.')
        if self.cache_files and self.sampler_engine != 'no':
            raise ArgumentError('--cache_files are scored without generating: use --sampler_engine no.')
        for path in self.cache_files:
            if not os.path.isfile(path):
                raise ArgumentError(f'--cache_files {path}: file not found.')
        if self.sampler_type == 'distill' and self.sampler_engine != 'client':
            raise ArgumentError('--sampler_type distill samples a teacher behind --sampler_engine client '
                                '(--base_url, --api_key).')
        if self.sampler_type == 'mcts' and not self.orm_model:
            raise ArgumentError('--sampler_type mcts needs --orm_model to judge finished rollouts.')
        for name in ('num_return_sequences', 'n_best_to_keep', 'num_sampling_per_gpu_batch_size', 'rollout_depth',
                     'max_iterations'):
            if getattr(self, name) < 1:
                raise ArgumentError(f'--{name} must be >= 1, got {getattr(self, name)}.')
        if self.num_sampling_per_gpu_batches is not None and self.num_sampling_per_gpu_batches < 1:
            raise ArgumentError('--num_sampling_per_gpu_batches must be >= 1.')
        if not 0 <= self.process_reward_rate <= 1:
            raise ArgumentError(f'--process_reward_rate must be in [0, 1], got {self.process_reward_rate}.')
        if self.engine_kwargs is not None and not isinstance(self.engine_kwargs, dict):
            raise ArgumentError('--engine_kwargs must be a JSON object.')
        if self.sampler_type != 'mcts':
            reject_set(self, same_reason(('rollout_depth', 'rollout_start_depth', 'max_iterations',
                                          'process_reward_rate', 'exploration_rate'),
                                         'it is an MCTS setting (--sampler_type mcts).'), 'swift sample')

    def resolve(self):
        if self.sampler_engine in ('pt', 'vllm', 'lmdeploy'):
            self.infer_backend = self.sampler_engine
            super().resolve()
        else:  # no local model
            self._import_plugins()

    def output_path(self, stamp: str) -> str:
        return os.path.join(self.output_dir, self.output_file or f'{stamp}.jsonl')
