"""Scale-out on CPU: `swift sft` tokens/s with 1 process x 2 threads vs 2 processes x 1 thread (DDP, ZeRO-2, ZeRO-3),
and peak RSS per rank of full fine-tuning under DDP, ZeRO-2, ZeRO-3 and ZeRO-3 offload, against the `--dry_run`
memory estimate.

usage: python -m bench.distributed [--rows 32] [--skip speed memory] [--estimate_only]

The 25M bench model (bench/data.py), fp32, max_length 512, global batch 4 (1 x 4 or 2 x 2), one epoch,
gradient checkpointing off. Peak RSS is sampled every 0.1 s per worker process with psutil.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, List

import psutil

from bench.data import bench_model_dir, write_mixed_jsonl

SWIFT = [sys.executable, '-m', 'swift.cli.main', 'sft']
GiB = 2**30


def sft_argv(model, data, out, train_type, batch, *extra) -> List[str]:
    return ['--model', model, '--dataset', data, '--train_type', train_type, '--max_length', '512',
            '--per_device_train_batch_size', str(batch), '--num_train_epochs', '1', '--gradient_checkpointing',
            'false', '--torch_dtype', 'float32', '--split_dataset_ratio', '0', '--save_strategy', 'no',
            '--report_to', 'none', '--logging_steps', '1000', '--add_version', 'false', '--output_dir', out,
            '--plot_loss', 'false', '--lora_dropout', '0', *extra]


def _watch(proc: subprocess.Popen, peaks: Dict[int, int], stop: threading.Event) -> None:
    root = psutil.Process(proc.pid)
    while not stop.is_set():
        try:
            family = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for p in family:
            try:
                if 'swift.cli.main' in ' '.join(p.cmdline()) and 'torchrun' not in ' '.join(p.cmdline()):
                    peaks[p.pid] = max(peaks.get(p.pid, 0), p.memory_info().rss)
            except psutil.Error:
                pass
        time.sleep(0.1)


def run(argv: List[str], nproc: int, threads: int, port: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MASTER_PORT=str(port))
    env.pop('NPROC_PER_NODE', None)
    if nproc > 1:
        env['NPROC_PER_NODE'] = str(nproc)
    proc = subprocess.Popen(SWIFT + argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peaks, stop = {}, threading.Event()
    watcher = threading.Thread(target=_watch, args=(proc, peaks, stop), daemon=True)
    watcher.start()
    output = proc.communicate()[0]
    stop.set()
    if proc.returncode:
        raise RuntimeError(output[-3000:])
    workers = sorted(peaks.values(), reverse=True)[:nproc]  # the launcher and torchrun are small
    result = {'rss': workers, 'output': output}
    log = os.path.join(argv[argv.index('--output_dir') + 1], 'logging.jsonl')
    if os.path.exists(log):  # not for --dry_run
        with open(log, encoding='utf-8') as f:
            result['runtime'] = [row for row in map(json.loads, f) if 'train_runtime' in row][-1]['train_runtime']
    return result


def real_tokens(model, data) -> int:
    from swift.dataset import encode_dataset, load_dataset
    from swift.model import get_model_tokenizer
    from swift.template import get_template
    _, tokenizer = get_model_tokenizer(model, load_model=False)
    encoded, _ = encode_dataset(load_dataset([data])[0], get_template('qwen2_5', tokenizer, max_length=512))
    return sum(len(row['input_ids']) for row in encoded)


def speed(model, data, tmp) -> None:
    tokens = real_tokens(model, data)
    cases = [('1 x 2 threads', 1, 2, 4, []), ('2 x 1 thread, DDP', 2, 1, 2, []),
             ('2 x 1 thread, ZeRO-2', 2, 1, 2, ['--deepspeed', 'zero2']),
             ('2 x 1 thread, ZeRO-3', 2, 1, 2, ['--deepspeed', 'zero3'])]
    print('| setup | tok/s |\n| --- | --- |')
    for i, (name, nproc, threads, batch, extra) in enumerate(cases):
        result = run(sft_argv(model, data, os.path.join(tmp, f'speed{i}'), 'lora', batch, *extra), nproc, threads,
                     29800 + i)
        print(f'| {name} | {tokens / result["runtime"]:.1f} |', flush=True)


def estimate(output: str) -> Dict[str, float]:
    """The dry run's figure and its parts (GiB), from its `[dry run] memory per rank` line."""
    line = next(ln for ln in output.splitlines() if 'fits in' in ln)
    parts = dict((name, float(value)) for name, value in re.findall(r'(\w+) ([0-9.]+)(?=,| GiB)', line))
    parts.pop('in', None)
    parts['total'] = float(re.search(r'fits in ([0-9.]+) GiB per device', line).group(1))
    return parts


MEMORY_CASES = [('DDP', []), ('ZeRO-2', ['--deepspeed', 'zero2']), ('ZeRO-3', ['--deepspeed', 'zero3']),
                ('ZeRO-3 offload', ['--deepspeed', 'zero3_offload'])]


def memory(model, data, tmp, measure: bool = True, port: int = 29900, engines=()) -> None:
    """Peak RSS per rank of the real run against the dry run's estimate (which on CPU includes the runtime the
    dry-run process holds: same imports, tokenizer, encoded data; no weights)."""
    print('| engine | peak RSS per rank (GiB) | estimate (GiB) | of which runtime | ratio estimate / measured |\n'
          '| --- | --- | --- | --- | --- |')
    for i, (name, extra) in enumerate(MEMORY_CASES):
        if engines and name not in engines:
            continue
        argv = sft_argv(model, data, os.path.join(tmp, f'mem{i}'), 'full', 2, *extra)
        est = estimate(run(argv + ['--dry_run', 'true'], 2, 1, port + i)['output'])
        print(f'{name} estimate parts (GiB): {est}', file=sys.stderr, flush=True)
        peak = max(run(argv, 2, 1, port + 10 + i)['rss']) / GiB if measure else float('nan')
        print(f'| {name} | {peak:.3f} | {est["total"]:.3f} | {est.get("runtime", 0):.3f} | '
              f'{est["total"] / peak:.2f} |', flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--rows', type=int, default=32)
    parser.add_argument('--skip', nargs='*', default=[])
    parser.add_argument('--estimate_only', action='store_true', help='memory: the dry runs only, no real runs')
    parser.add_argument('--engines', nargs='*', default=[], help='memory: only these rows, e.g. "ZeRO-3"')
    parser.add_argument('--port', type=int, default=29900, help='first MASTER_PORT of the memory runs')
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = bench_model_dir(tmp)
        data = write_mixed_jsonl(os.path.join(tmp, 'mixed.jsonl'), opts.rows)
        if 'speed' not in opts.skip:
            speed(model, data, tmp)
        if 'memory' not in opts.skip:
            memory(model, data, tmp, measure=not opts.estimate_only, port=opts.port, engines=opts.engines)


if __name__ == '__main__':
    main()
