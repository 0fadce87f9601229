"""The `--dry_run` memory estimate per rank: parameters, gradients, optimizer states and activations for the tuner,
ZeRO stage, batch and max_length, from the model's config alone (the weights are built on the meta device)."""
from dataclasses import dataclass
from typing import Dict, Optional

import torch

GiB = 2**30


@dataclass
class MemoryEstimate:
    parameters: float
    gradients: float
    optimizer: float
    activations: float
    num_params: int
    num_trainable: int
    world_size: int
    zero_stage: Optional[int]

    @property
    def total(self) -> float:
        return self.parameters + self.gradients + self.optimizer + self.activations

    def describe(self) -> str:
        stage = 'DDP / one process' if self.zero_stage is None else f'ZeRO-{self.zero_stage}'
        parts = ', '.join(f'{name} {getattr(self, name) / GiB:.2f}'
                          for name in ('parameters', 'gradients', 'optimizer', 'activations'))
        return (f'[dry run] memory per rank ({stage}, {self.world_size} rank(s), {self.num_params / 1e6:.1f}M '
                f'parameters, {self.num_trainable / 1e6:.2f}M trainable): {parts} GiB; fits in '
                f'{self.total / GiB:.2f} GiB per device')


def count_parameters(config, lora_rank: Optional[int]) -> Dict[str, int]:
    """Total and trainable parameters (LoRA on every Linear but lm_head when lora_rank is given; a vision
    model's vision tower counts in the total)."""
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText
    auto = AutoModelForImageTextToText if hasattr(config, 'vision_config') else AutoModelForCausalLM
    with torch.device('meta'):
        model = auto.from_config(config)
    total = sum(p.numel() for p in model.parameters())
    if lora_rank is None:
        return {'total': total, 'trainable': total}
    lora = sum(lora_rank * (m.in_features + m.out_features) for name, m in model.named_modules()
               if isinstance(m, torch.nn.Linear) and not name.endswith('lm_head') and 'visual' not in name
               and 'vision' not in name)
    return {'total': total + lora, 'trainable': lora}


def activation_bytes(config, batch: int, length: int, lora: bool, checkpointing: bool, dtype_bytes: int) -> float:
    """Saved activations of one step: per layer ~10h + 2kv + 4i values per token (+ LoRA's dropped-out inputs),
    only each layer's input with checkpointing plus one recomputed layer; logits and their loss gradient."""
    config = config.get_text_config()  # a vision-language model: its language model's sizes
    h, i = config.hidden_size, config.intermediate_size
    heads = config.num_attention_heads
    kv = h // heads * getattr(config, 'num_key_value_heads', heads)
    per_layer = 10 * h + 2 * kv + 4 * i + ((6 * h + i) if lora else 0)
    layers = config.num_hidden_layers
    stored = (layers * h + per_layer) if checkpointing else layers * per_layer
    tokens = batch * length
    logits = 3 * config.vocab_size * 4  # fp32 logits, log-softmax and its gradient
    return tokens * (stored * dtype_bytes + logits)


def estimate_memory(config, *, train_type: str, lora_rank: Optional[int], zero_stage: Optional[int],
                    offload: Dict[str, str], world_size: int, batch: int, length: int, dtype_bytes: int,
                    checkpointing: bool) -> MemoryEstimate:
    """Bytes per rank. AdamW keeps two fp32 moments; ZeRO-1 shards those, ZeRO-2 also the gradients, ZeRO-3 also
    the parameters (plus one fp32 master copy of each shard for stages 1-3, as DeepSpeed keeps)."""
    counts = count_parameters(config, lora_rank if train_type != 'full' else None)
    total, trainable = counts['total'], counts['trainable']
    stage, n = zero_stage or 0, world_size
    shard = (lambda x: x / n)
    params = total * dtype_bytes
    if stage >= 3:
        params = 0 if offload.get('param') == 'cpu' else shard(params)
    grads = trainable * 4 if stage < 2 else shard(trainable * 4)
    if zero_stage is None and n > 1:
        grads *= 2  # DDP all-reduces through bucket copies of the gradients
    states = trainable * 8 + (trainable * 4 if stage >= 1 else 0)  # moments (+ fp32 master partition)
    optimizer = states if stage == 0 else (0 if offload.get('optimizer') == 'cpu' else shard(states))
    acts = activation_bytes(config, batch, length, train_type != 'full', checkpointing, dtype_bytes)
    return MemoryEstimate(params, grads, optimizer, acts, total, trainable, n, zero_stage)


def estimate_for_args(args, config, longest: int) -> MemoryEstimate:
    """The estimate for resolved training arguments; `longest` is the longest encoded sample (used when it is
    below --max_length: batches pad to their longest sample)."""
    import os
    from .deepspeed import load_deepspeed_config, offload_devices, zero_stage
    deepspeed = load_deepspeed_config(args.deepspeed)
    dtype = args.torch_dtype or str(getattr(config, 'dtype', None) or 'float32').replace('torch.', '')
    # on CPU "offloaded" states stay in the same (host) memory as everything else
    offload = offload_devices(deepspeed) if deepspeed and torch.cuda.is_available() else {}
    return estimate_memory(
        config, train_type=args.train_type, lora_rank=args.lora_rank, zero_stage=zero_stage(deepspeed),
        offload=offload, world_size=int(os.environ.get('WORLD_SIZE', '1')),
        batch=args.per_device_train_batch_size, length=min(longest, args.max_length or longest),
        dtype_bytes=4 if dtype == 'float32' or not torch.cuda.is_available() else 2,
        checkpointing=args.gradient_checkpointing)
