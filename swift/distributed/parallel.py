"""What a training run hands transformers for its distributed engine: the DeepSpeed config, FSDP2 through
accelerate, Ulysses sequence parallel (DeepSpeed ALST through accelerate's ParallelismConfig) and the DDP
backend; GPU-only engines fail on CPU in one line instead of silently falling back to DDP."""
import json
import os
from typing import Any, Dict, Optional

import torch

from swift.utils import ArgumentError, get_logger
from .deepspeed import resolve_deepspeed

logger = get_logger()
FSDP_CPU_ERROR = 'FSDP needs GPUs; use --deepspeed zero3 on CPU.'


def world_size() -> int:
    return int(os.environ.get('WORLD_SIZE', '1'))


def _json_or_path(name: str, value) -> Optional[Dict[str, Any]]:
    if value is None or isinstance(value, dict):
        return value
    text = str(value)
    try:
        if os.path.isfile(text):
            with open(text, encoding='utf-8') as f:
                return json.load(f)
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ArgumentError(f'--{name} {text}: not valid JSON ({e}).') from None


def fsdp_overrides(fsdp, fsdp_config) -> Dict[str, Any]:
    """--fsdp / --fsdp_config for transformers' Trainer (accelerate FSDP2 unless the config says otherwise)."""
    if not fsdp and fsdp_config is None:
        return {}
    if not torch.cuda.is_available():
        # accelerate would quietly wrap the model in plain DDP on CPU
        raise ArgumentError(FSDP_CPU_ERROR)
    if not fsdp:
        raise ArgumentError("--fsdp_config needs --fsdp, e.g. --fsdp 'full_shard auto_wrap'.")
    config = dict(_json_or_path('fsdp_config', fsdp_config) or {})
    config.setdefault('version', 2)  # FSDP2 (fully_shard); 1 is the legacy wrapper
    return {'fsdp': fsdp, 'fsdp_config': config}


def sequence_parallel_overrides(size: int, deepspeed: Optional[dict], attn_impl: Optional[str]) -> Dict[str, Any]:
    """Ulysses sequence parallel of `size` ranks: DeepSpeed's ALST attention, wired in by accelerate."""
    if size == 1:
        return {}
    if size < 1:
        raise ArgumentError(f'--sequence_parallel_size must be >= 1, got {size}.')
    if not torch.cuda.is_available():
        raise ArgumentError('--sequence_parallel_size > 1 needs GPUs (Ulysses attention over NCCL); '
                            'use 1 on CPU.')
    if deepspeed is None:
        raise ArgumentError('--sequence_parallel_size > 1 runs on DeepSpeed: add --deepspeed zero2 or zero3.')
    if world_size() % size:
        raise ArgumentError(f'--sequence_parallel_size {size} must divide the number of processes '
                            f'({world_size()}).')
    from accelerate.parallelism_config import ParallelismConfig
    from accelerate.utils import DeepSpeedSequenceParallelConfig
    handler = DeepSpeedSequenceParallelConfig(sp_seq_length_is_variable=True,
                                              sp_attn_implementation=_sp_attention(attn_impl))
    return {'parallelism_config': ParallelismConfig(sp_backend='deepspeed', sp_size=size, sp_handler=handler)}


def _sp_attention(attn_impl: Optional[str]) -> str:
    return {'flash_attn': 'flash_attention_2', None: 'sdpa'}.get(attn_impl, attn_impl)


def ddp_overrides(args) -> Dict[str, Any]:
    """gloo on CPU; adapters leave frozen parameters out of the graph, so DDP need not search for unused ones."""
    out: Dict[str, Any] = {}
    if world_size() > 1 and args.ddp_backend is None and not torch.cuda.is_available():
        out['ddp_backend'] = 'gloo'
    if args.ddp_find_unused_parameters is None and args.train_type != 'full':
        out['ddp_find_unused_parameters'] = False
    return out


def training_overrides(args) -> Dict[str, Any]:
    """TrainingArguments overrides for the distributed engine the arguments select."""
    deepspeed = resolve_deepspeed(args.deepspeed, args.zero_hpz_partition_size)
    if deepspeed is not None and not any(os.environ.get(k) for k in ('LOCAL_RANK', 'NPROC_PER_NODE', 'NNODES')):
        # DeepSpeed outside a launcher falls back to MPI discovery (a traceback without mpi4py)
        raise ArgumentError('--deepspeed runs under torchrun: set NPROC_PER_NODE (NPROC_PER_NODE=1 for one '
                            'process).')
    out = ddp_overrides(args)
    out['deepspeed'] = deepspeed
    out.update(fsdp_overrides(args.fsdp, args.fsdp_config))
    if deepspeed is not None and out.get('fsdp'):
        raise ArgumentError('--deepspeed and --fsdp are two sharding engines: choose one.')
    out.update(sequence_parallel_overrides(args.sequence_parallel_size, deepspeed, args.attn_impl))
    return out


def check_training_args(args) -> None:
    """Every check of training_overrides, without building anything (the launcher runs it before torchrun)."""
    training_overrides(args)
