"""`swift infer` arguments: the base arguments plus the merge, vLLM and LMDeploy groups of ms-swift 3.x."""
import datetime as dt
import os
from dataclasses import dataclass, fields
from typing import Literal, Optional, Union

from swift.utils import ArgumentError
from .base_args import ARGS_FILE, BaseArguments, _default_of, _json_arg
from .groups import MergeArguments, _help

ADAPTER_CONFIG = 'adapter_config.json'


@dataclass
class VllmArguments:
    group_title = 'vLLM arguments (--infer_backend vllm; GPU only)'
    gpu_memory_utilization: float = _help('Fraction of GPU memory vLLM may use.', default=0.9)
    tensor_parallel_size: int = _help('Tensor parallel size.', default=1)
    pipeline_parallel_size: int = _help('Pipeline parallel size.', default=1)
    max_num_seqs: int = _help('Max sequences per vLLM step.', default=256)
    max_model_len: Optional[int] = _help('Max context length; default: the model\'s.', default=None)
    disable_custom_all_reduce: bool = _help('Disable vLLM\'s custom all-reduce.', default=False)
    enforce_eager: bool = _help('PyTorch eager mode instead of CUDA graphs (less memory, slower).', default=False)
    limit_mm_per_prompt: Optional[Union[dict, str]] = _help(
        'Max multimodal items per prompt, e.g. \'{"image": 5, "video": 2}\'.', default=None)
    vllm_max_lora_rank: int = _help('Max LoRA rank vLLM reserves for adapters.', default=16)
    enable_prefix_caching: bool = _help('vLLM automatic prefix caching.', default=False)

    def validate(self):
        if not 0 < self.gpu_memory_utilization <= 1:
            raise ArgumentError(f'--gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}.')


@dataclass
class LmdeployArguments:
    group_title = 'LMDeploy arguments (--infer_backend lmdeploy; GPU only)'
    tp: int = _help('Tensor parallel size.', default=1)
    session_len: Optional[int] = _help('Max session length; default: the model\'s.', default=None)
    cache_max_entry_count: float = _help('Fraction of free GPU memory for the KV cache.', default=0.8)
    quant_policy: int = _help('KV cache quantization: 0 off, 4 or 8 bits.', default=0)
    vision_batch_size: int = _help('Vision encoder batch size.', default=1)

    def validate(self):
        if self.quant_policy not in (0, 4, 8):
            raise ArgumentError(f'--quant_policy must be 0, 4 or 8, got {self.quant_policy}.')


_SAVES_NOTHING = ('not read: --merge_lora merges in memory and saves nothing here; write merged weights with '
                  '`swift export --merge_lora true`; drop it.')


@dataclass
class InferArguments(MergeArguments, VllmArguments, LmdeployArguments, BaseArguments):
    """Arguments of `swift infer`: chat in the terminal, or run a dataset through a model."""
    group_title = 'inference arguments'
    rejected_fields = {
        'safe_serialization': _SAVES_NOTHING, 'max_shard_size': _SAVES_NOTHING,
        'tuner_backend': 'not read by inference: adapters load with peft whatever backend trained them; drop it.',
    }
    ckpt_dir: Optional[str] = _help('A checkpoint dir: sets --adapters when it holds adapter_config.json, else '
                                    '--model (ms-swift 2 style).', default=None)
    infer_backend: Literal['pt', 'vllm', 'lmdeploy'] = _help('Inference engine.', default='pt')
    max_batch_size: int = _help('Rows per batch of the pt engine.', default=1)
    ddp_backend: Optional[str] = _help('Collective backend of NPROC_PER_NODE dataset inference; default nccl on '
                                       'GPU, gloo on CPU.', default=None)
    result_path: Optional[str] = _help('Result jsonl; default <checkpoint>/infer_result/<time>.jsonl when the '
                                       'checkpoint has args.json, else ./result/<time>.jsonl.', default=None)
    metric: Optional[Literal['acc', 'rouge']] = _help('Score the dataset results: acc or rouge.', default=None)
    val_dataset_sample: Optional[int] = _help('Rows of the inference dataset to use.', default=None)
    load_args: bool = _help('Read args.json from --adapters/--model/--ckpt_dir.', default=True)
    split_dataset_ratio: float = _help('Fraction of --dataset held out (and inferred) when --val_dataset is not '
                                       'given; 0 infers on the whole --dataset.', default=0.01)

    def __post_init__(self):
        BaseArguments.__post_init__(self)
        if isinstance(self.limit_mm_per_prompt, str):
            self.limit_mm_per_prompt = _json_arg('limit_mm_per_prompt', self.limit_mm_per_prompt)

    def validate(self):
        BaseArguments.validate(self)
        VllmArguments.validate(self)
        LmdeployArguments.validate(self)
        if self.max_batch_size < 1:
            raise ArgumentError(f'--max_batch_size must be >= 1, got {self.max_batch_size}.')
        if self.val_dataset_sample is not None and self.val_dataset_sample < 1:
            raise ArgumentError(f'--val_dataset_sample must be >= 1, got {self.val_dataset_sample}.')
        self._validate_backend_flags()
        if self.merge_lora and self.infer_backend == 'pt' and not (self.adapters or self.ckpt_dir):
            raise ArgumentError('--merge_lora true needs --adapters (or --ckpt_dir of an adapter checkpoint).')

    def _validate_backend_flags(self):
        """A vLLM/LMDeploy/pt-only flag set for another --infer_backend would be ignored: refuse it."""
        groups = {'vllm': [f for f in fields(VllmArguments)], 'lmdeploy': [f for f in fields(LmdeployArguments)],
                  'pt': [f for f in fields(InferArguments) if f.name == 'max_batch_size']}
        for backend, group in groups.items():
            for f in group:
                if backend != self.infer_backend and getattr(self, f.name) != _default_of(f):
                    raise ArgumentError(f'--{f.name} applies to --infer_backend {backend} only (this run uses '
                                        f'{self.infer_backend}); drop it or pass --infer_backend {backend}.')

    def resolve(self):
        self._resolve_ckpt_dir()
        BaseArguments.resolve(self)

    def _resolve_ckpt_dir(self):
        if self.ckpt_dir is None:
            return
        if not os.path.isdir(self.ckpt_dir):
            raise ArgumentError(f'--ckpt_dir {self.ckpt_dir}: directory not found.')
        if os.path.isfile(os.path.join(self.ckpt_dir, ADAPTER_CONFIG)):
            if self.ckpt_dir not in self.adapters:
                self.adapters = [self.ckpt_dir] + list(self.adapters)
        elif self.model is None:
            self.model = self.ckpt_dir

    def _args_json_dir(self) -> Optional[str]:
        from swift.utils import parse_adapters  # the engines read `name=path` the same way
        for path in parse_adapters(self.adapters).values():
            if os.path.isfile(os.path.join(path, ARGS_FILE)):
                return path
        return BaseArguments._args_json_dir(self)

    def checkpoint_dir(self) -> Optional[str]:
        """The adapter/model dir that holds args.json (where results go by default)."""
        return self._args_json_dir()

    def default_result_path(self) -> str:
        stamp = dt.datetime.now().strftime('%Y%m%d-%H%M%S')
        ckpt = self.checkpoint_dir()
        folder = os.path.join(ckpt, 'infer_result') if ckpt else 'result'
        return os.path.join(folder, f'{stamp}.jsonl')
