"""Side by side with another toolkit's `swift` executable: start-up, training, encoding and serving.

usage: OMP_NUM_THREADS=1 python -m bench.versus --other /path/to/other/venv/bin/swift [--rounds 3]
           [--only startup train encode serve] [--root DIR]

Both sides get the same ~25M-parameter Qwen2-architecture model (bench.data.bench_model_dir, saved to --root), the
same data files and the same workloads; the other toolkit runs from its own executable, in its own environment
(PYTHONPATH removed), and is never imported or installed here. Rounds alternate the two sides and each figure is
the median over rounds, with the 1-minute load average next to it. Workloads:
- startup: `sft` LoRA on short rows (max_length 128), --max_steps 2, --logging_steps 1: seconds from launching
  the command to its first printed training-step log line (the first step done), and to the process exit.
- train: `sft` LoRA for one epoch over the same rows in the same order (no dataset shuffle, sequential
  sampler), batch 4, max_length 512: the trainer's train_runtime.
- encode: rows/s of tokenising a dataset with the qwen2_5 template (ours: `sft --dry_run true`; the other:
  `export --to_cached_dataset true`), from the difference of a large and a small run so start-up cancels.
- serve: `deploy` (pt backend, --max_batch_size 32) of each side running side by side; the same client load
  (64 short greedy chats, max_tokens 32, at 32 concurrent, and 8 one at a time) alternates between them.
Prints one JSON line per measurement, then a Markdown table (ratio > 1: ours is faster).
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from typing import Dict, List, Optional

from bench.data import bench_model_dir, write_fast_jsonl, write_mixed_jsonl
from bench.serve import one_request, prompts, run_load

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMON_SFT = ['--torch_dtype', 'float32', '--max_length', '512',
              '--per_device_train_batch_size', '4', '--gradient_accumulation_steps', '1',  # ms-swift: 16 / batch
              '--gradient_checkpointing', 'false', '--split_dataset_ratio', '0',
              '--save_strategy', 'no', '--report_to', 'none', '--dataloader_num_workers', '0', '--seed', '42',
              '--lora_rank', '8', '--lora_alpha', '32', '--learning_rate', '1e-4']
# how each side asks for the same thing where the names differ
OURS_FLAGS = {'order': ['--train_sampling_strategy', 'sequential'], 'model': [], 'serve': ['--verbose', 'false'],
              'sft': ['--train_type', 'lora', '--add_version', 'false', '--plot_loss', 'false']}
OTHER_FLAGS = {'order': ['--dataset_shuffle', 'false', '--train_dataloader_shuffle', 'false'],
               'model': ['--model_type', 'qwen2', '--template', 'qwen2_5'],
               'serve': ['--infer_backend', 'transformers'],
               'sft': ['--tuner_type', 'lora', '--add_version', 'false']}  # ms-swift 4.x names
LOSS_LINE = re.compile(r"""['"]loss['"]\s*:""")
RUNTIME = re.compile(r"""['"]train_runtime['"]\s*:\s*['"]?([0-9.]+)""")


class Side:

    def __init__(self, name: str, command: List[str], env: Dict[str, str], flags: Dict[str, List[str]]):
        self.name, self.command, self.env, self.flags = name, command, env, flags

    def argv(self, subcommand: str, *args: str) -> List[str]:
        return [*self.command, subcommand, *args]


def sides(other: str, other_serve_flags: Optional[List[str]]) -> List[Side]:
    base = dict(os.environ, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'))
    ours = Side('ours', [sys.executable, '-m', 'swift.cli.main'], dict(base, PYTHONPATH=ROOT), OURS_FLAGS)
    env = {k: v for k, v in base.items() if k != 'PYTHONPATH'}  # its import name is also `swift`
    flags = dict(OTHER_FLAGS, serve=other_serve_flags if other_serve_flags is not None else OTHER_FLAGS['serve'])
    return [ours, Side('other', [other], env, flags)]


def load() -> float:
    return round(os.getloadavg()[0], 1)


def timed_run(side: Side, argv: List[str], log: str, first_line: Optional[re.Pattern] = None) -> dict:
    """Run to the end; seconds to exit and (with `first_line`) to the first output line matching it."""
    start, first = time.perf_counter(), None
    with open(log, 'w') as f:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=side.env, cwd=ROOT)
        for raw in iter(proc.stdout.readline, b''):
            line = raw.decode(errors='replace')
            f.write(line)
            if first is None and first_line is not None and first_line.search(line):
                first = time.perf_counter() - start
        code = proc.wait()
    if code != 0:
        with open(log) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'{side.name}: {" ".join(argv)} exited with {code}:\n{tail}')
    return {'wall_s': round(time.perf_counter() - start, 2), 'first_s': None if first is None else round(first, 2)}


def sft_argv(side: Side, model: str, data: str, out: str, *extra: str) -> List[str]:
    return side.argv('sft', '--model', model, *side.flags['model'], '--dataset', data, '--output_dir', out,
                     *COMMON_SFT, *side.flags['order'], *side.flags['sft'], *extra)


def startup(side: Side, model: str, data: str, root: str) -> dict:
    """Short rows (max_length 128) so that the first step itself is a small part of the figure."""
    out = os.path.join(root, f'startup-{side.name}')
    argv = sft_argv(side, model, data, out, '--max_steps', '2', '--logging_steps', '1')
    argv[argv.index('--max_length') + 1] = '128'
    r = timed_run(side, argv, out + '.log', LOSS_LINE)
    return {'first_step_s': r['first_s'], 'exit_s': r['wall_s']}


def train(side: Side, model: str, data: str, root: str) -> dict:
    out = os.path.join(root, f'train-{side.name}')
    timed_run(side, sft_argv(side, model, data, out, '--num_train_epochs', '1', '--logging_steps', '1000'),
              out + '.log')
    with open(out + '.log') as f:
        runtimes = RUNTIME.findall(f.read())
    if not runtimes:
        raise RuntimeError(f'{side.name}: no train_runtime in {out}.log')
    return {'train_runtime_s': float(runtimes[-1])}


def encode_wall(side: Side, model: str, data: str, out: str) -> float:
    shutil.rmtree(out, ignore_errors=True)  # ms-swift's export refuses an existing output_dir (the next round)
    if side.name == 'ours':
        argv = sft_argv(side, model, data, out, '--dry_run', 'true')
    else:
        argv = side.argv('export', '--model', model, *side.flags['model'], '--dataset', data, '--output_dir', out,
                         '--to_cached_dataset', 'true', '--max_length', '512', '--split_dataset_ratio', '0',
                         '--dataset_num_proc', '1', '--dataset_shuffle', 'false')
    return timed_run(side, argv, out + '.log')['wall_s']


def encode(side: Side, model: str, files: Dict[int, str], root: str) -> dict:
    (small, small_file), (big, big_file) = sorted(files.items())
    walls = [encode_wall(side, model, f, os.path.join(root, f'encode-{side.name}-{n}'))
             for n, f in ((small, small_file), (big, big_file))]
    return {'encode_rows_per_s': round((big - small) / max(walls[1] - walls[0], 1e-3), 1),
            'small_wall_s': walls[0], 'big_wall_s': walls[1]}


@contextmanager
def deploy(side: Side, model: str, root: str):
    from tests.deploy.deploy_helpers import free_port
    port = free_port()
    argv = side.argv('deploy', '--model', model, *side.flags['model'], '--torch_dtype', 'float32', '--host',
                     '127.0.0.1', '--port', str(port), '--served_model_name', 'bench', '--max_batch_size', '32',
                     *side.flags['serve'])
    log = open(os.path.join(root, f'deploy-{side.name}.log'), 'w')
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=side.env, cwd=ROOT,
                            start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    try:
        _wait_ready(proc, base, log.name)
        for _ in range(2):  # warm-up
            one_request(base, 'hello', 4)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _wait_ready(proc, base: str, log: str, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            with open(log) as f:
                raise RuntimeError(f'deploy exited with {proc.returncode}:\n{f.read()[-3000:]}')
        try:
            with urllib.request.urlopen(base + '/v1/models', timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f'deploy did not answer in {timeout} s (log: {log})')


def serve(pair: List[Side], model: str, root: str, rounds: int) -> Dict[str, List[dict]]:
    texts, single = prompts(64), prompts(8, seed=2)
    results = {s.name: [] for s in pair}
    with deploy(pair[0], model, root) as a, deploy(pair[1], model, root) as b:
        for round_ in range(rounds):
            order = [(pair[0], a), (pair[1], b)] if round_ % 2 == 0 else [(pair[1], b), (pair[0], a)]
            for side, base in order:
                busy = run_load(base, texts, 32, 32)
                one = run_load(base, single, 1, 32)
                row = {'requests_per_s': busy['requests_per_s'], 'p50_s': busy['p50_latency_s'],
                       'p99_s': busy['p99_latency_s'], 'single_p50_s': one['p50_latency_s'], 'load': load()}
                print(json.dumps({'workload': 'serve', 'side': side.name, 'round': round_, **row}), flush=True)
                results[side.name].append(row)
    return results


def alternate(pair: List[Side], rounds: int, name: str, fn) -> Dict[str, List[dict]]:
    results = {s.name: [] for s in pair}
    for round_ in range(rounds):
        for side in (pair if round_ % 2 == 0 else pair[::-1]):
            row = {**fn(side), 'load': load()}
            print(json.dumps({'workload': name, 'side': side.name, 'round': round_, **row}), flush=True)
            results[side.name].append(row)
    return results


# metric -> True when higher is better
METRICS = {'first_step_s': False, 'exit_s': False, 'train_runtime_s': False, 'encode_rows_per_s': True,
           'requests_per_s': True, 'p50_s': False, 'p99_s': False, 'single_p50_s': False}


def table(results: Dict[str, Dict[str, List[dict]]]) -> str:
    lines = ['| workload | metric | ours (median) | other (median) | ours is faster by | load avg (ours / other) |',
             '| --- | --- | --- | --- | --- | --- |']
    for workload, by_side in results.items():
        for metric, higher in METRICS.items():
            if metric not in by_side['ours'][0]:
                continue
            ours = statistics.median(r[metric] for r in by_side['ours'])
            other = statistics.median(r[metric] for r in by_side['other'])
            ratio = (ours / other if higher else other / ours) if min(ours, other) > 0 else float('nan')
            loads = ' / '.join(str(statistics.median(r['load'] for r in by_side[s])) for s in ('ours', 'other'))
            lines.append(f'| {workload} | {metric} | {ours:g} | {other:g} | **{ratio:.2f}x** | {loads} |')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--other', required=True, help="The other toolkit's `swift` executable.")
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--only', nargs='+', default=['startup', 'train', 'encode', 'serve'],
                        choices=['startup', 'train', 'encode', 'serve'])
    parser.add_argument('--train_rows', type=int, default=32)
    parser.add_argument('--encode_rows', type=int, default=3000)
    parser.add_argument('--other_serve_flags', nargs='*', default=None,
                        help=f'Flags selecting the other side\'s pt backend (default: {OTHER_FLAGS["serve"]}).')
    parser.add_argument('--root', default=None, help='Where the model, data and logs go (default: a temp dir).')
    args = parser.parse_args()
    if not os.access(args.other, os.X_OK):
        parser.error(f'--other {args.other}: not an executable file.')
    root = args.root or tempfile.mkdtemp(prefix='swift-versus-')
    os.makedirs(root, exist_ok=True)
    model = bench_model_dir(root)
    pair = sides(args.other, args.other_serve_flags)
    print(json.dumps({'OMP_NUM_THREADS': pair[0].env['OMP_NUM_THREADS'], 'other': args.other, 'root': root}))
    results = {}
    # conversations well under max_length 512, so that both sides keep every row (no edge cases at the limit)
    train_data = write_mixed_jsonl(os.path.join(root, f'train-{args.train_rows}.jsonl'), args.train_rows, hi=400)
    if 'startup' in args.only:
        short = write_mixed_jsonl(os.path.join(root, 'short-32.jsonl'), 32, lo=30, hi=80)
        results['startup'] = alternate(pair, args.rounds, 'startup', lambda s: startup(s, model, short, root))
    if 'train' in args.only:
        results['train'] = alternate(pair, args.rounds, 'train', lambda s: train(s, model, train_data, root))
    if 'encode' in args.only:
        files = {n: write_fast_jsonl(os.path.join(root, f'encode-{n}.jsonl'), n) for n in (100, args.encode_rows)}
        results['encode'] = alternate(pair, args.rounds, 'encode', lambda s: encode(s, model, files, root))
    if 'serve' in args.only:
        results['serve'] = serve(pair, model, root, args.rounds)
    print(table(results))


if __name__ == '__main__':
    main()
