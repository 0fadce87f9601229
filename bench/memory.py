"""Training memory of the memory-saving methods: parameters, gradients and optimizer state (bytes of the tensors),
process peak RSS, and tokens/s, each method in its own process on the ~25M-parameter bench model.

usage: OMP_NUM_THREADS=1 python -m bench.memory [--steps 6] [--batch 4] [--length 256] [--only galore lora]

The methods run through swift's own code (swift.tuners.prepare_model, the registered optimizers, the LISA
callback) in a bare loop: random tokens, fp32 (QLoRA: nf4 base, fp32 compute), gradient checkpointing off.
Gradients are counted after backward and before the step (per-parameter GaLore/APOLLO step inside backward and
free them); optimizer state after the last step, GaLore/APOLLO projection matrices included.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import torch

from bench.data import bench_model_dir

FULL = {'train_type': 'full'}
METHODS = {
    'full AdamW': FULL,
    'GaLore (r 128)': {**FULL, 'use_galore': True},
    'GaLore per-parameter': {**FULL, 'use_galore': True, 'galore_optim_per_parameter': True},
    'APOLLO (r 16)': {**FULL, 'use_apollo': True},
    'APOLLO-mini (r 1, tensor)': {**FULL, 'use_apollo': True, 'apollo_rank': 1, 'apollo_scale_type': 'tensor',
                                  'apollo_scale': 128.0},
    'Adam-mini': {**FULL, 'use_adam_mini': True},
    'BAdam (layer)': {**FULL, 'use_badam': True},
    'LISA (2 layers)': {**FULL, 'lisa_activated_layers': 2},
    'LoRA (r 8)': {'train_type': 'lora'},
    'QLoRA (r 8, nf4)': {'train_type': 'lora', 'qlora': True},
}


def _args(spec: dict):
    from swift.arguments.tuner_args import TunerArguments
    args = TunerArguments()
    args.train_type, args.adapters, args.resume_from_checkpoint, args.seed = 'lora', [], None, 42
    for key, value in spec.items():
        if key != 'qlora':
            setattr(args, key, value)
    args.validate()
    return args


def _load(model_dir: str, qlora: bool):
    from swift.model import get_model_tokenizer
    from swift.model.quant import get_quantization_config
    config = get_quantization_config('bnb', 4, bnb_4bit_compute_dtype='float32') if qlora else None
    model, _ = get_model_tokenizer(model_dir, 'float32', quantization_config=config)
    return model


def _tensor_bytes(value) -> int:
    if torch.is_tensor(value):
        return value.numel() * value.element_size()
    matrix = getattr(value, 'ortho_matrix', None)  # GaLore/APOLLO projectors keep their matrix in the state
    return matrix.numel() * matrix.element_size() if torch.is_tensor(matrix) else 0


def _state_bytes(optimizer) -> int:
    optimizers = getattr(optimizer, 'optimizer_dict', None) or {None: optimizer}
    total = 0
    for opt in optimizers.values():
        opt = getattr(opt, 'base_optimizer', opt)  # BAdam wraps AdamW
        total += sum(_tensor_bytes(v) for state in opt.state.values() for v in state.values())
    return total


def run_one(name: str, model_dir: str, steps: int, batch: int, length: int) -> dict:
    from transformers import TrainingArguments
    from swift.plugin import create_optimizer
    from swift.tuners import builtin_optimizer_name, prepare_model
    torch.manual_seed(0)
    spec = METHODS[name]
    args = _args(spec)
    model = prepare_model(args, _load(model_dir, spec.get('qlora', False)))
    training_args = TrainingArguments(output_dir=tempfile.mkdtemp(), use_cpu=True, learning_rate=1e-4,
                                      weight_decay=0.1, report_to='none')
    params = [p for p in model.parameters() if p.requires_grad]
    opt_name = builtin_optimizer_name(args)
    optimizer = create_optimizer(opt_name, args, model, training_args) if opt_name else \
        torch.optim.AdamW(params, lr=1e-4, weight_decay=0.1)
    lisa = None
    if args.lisa_activated_layers:
        from swift.tuners.lisa import LisaCallback
        lisa = LisaCallback(model, args.lisa_activated_layers, args.lisa_step_interval, args.seed)
        lisa.switch(0, optimizer)
    ids = torch.randint(10, 3700, (batch, length), generator=torch.Generator().manual_seed(0))
    model.train()
    grad_bytes, times = 0, []
    for step in range(steps):
        start = time.perf_counter()
        model(input_ids=ids, labels=ids).loss.backward()
        grad_bytes = max(grad_bytes, sum(_tensor_bytes(p.grad) for p in model.parameters() if p.grad is not None))
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    param_bytes = sum(_tensor_bytes(p) for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    timed = times[1:] or times  # the first step allocates state and projections
    return {'method': name, 'param_mib': param_bytes / 2**20, 'grad_mib': grad_bytes / 2**20,
            'state_mib': _state_bytes(optimizer) / 2**20, 'trainable': trainable,
            'rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            'tokens_per_s': batch * length * len(timed) / sum(timed)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--steps', type=int, default=6)
    parser.add_argument('--batch', type=int, default=4)
    parser.add_argument('--length', type=int, default=256)
    parser.add_argument('--only', nargs='*', default=None, help='method names (substrings) to run')
    parser.add_argument('--child', default=None, help=argparse.SUPPRESS)
    parser.add_argument('--root', default=os.path.join(tempfile.gettempdir(), 'swift-bench'))
    ns = parser.parse_args()
    model_dir = bench_model_dir(ns.root)
    if ns.child:
        print('RESULT ' + json.dumps(run_one(ns.child, model_dir, ns.steps, ns.batch, ns.length)), flush=True)
        return
    names = [n for n in METHODS if not ns.only or any(o.lower() in n.lower() for o in ns.only)]
    rows = []
    for name in names:
        cmd = [sys.executable, '-m', 'bench.memory', '--child', name, '--steps', str(ns.steps), '--batch',
               str(ns.batch), '--length', str(ns.length), '--root', ns.root]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(next(ln for ln in out.splitlines() if ln.startswith('RESULT '))[7:]))
        print(f'{name}: {rows[-1]}', file=sys.stderr, flush=True)
    print('| method | trainable params | params MiB | grads MiB | optimizer state MiB | p+g+state MiB | peak RSS MiB '
          '| tokens/s |\n| --- | --- | --- | --- | --- | --- | --- | --- |')
    for r in rows:
        total = r['param_mib'] + r['grad_mib'] + r['state_mib']
        print(f'| {r["method"]} | {r["trainable"]:,} | {r["param_mib"]:.1f} | {r["grad_mib"]:.1f} | '
              f'{r["state_mib"]:.1f} | {total:.1f} | {r["rss_mib"]:.0f} | {r["tokens_per_s"]:.0f} |')


if __name__ == '__main__':
    main()
