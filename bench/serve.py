"""Serving throughput of `swift deploy` (pt engine) with and without batching, and the decode step against the
CPU's measured fp32 matmul peak.

usage: OMP_NUM_THREADS=1 python -m bench.serve [--requests 64] [--concurrency 1 8 32] [--max_tokens 32] [--rounds 3]

First the decode step: the engine in this process runs 32 requests, and each round also measures the fp32 peak
with a large matmul, so that each ratio compares two measurements taken seconds apart. Then the servers: two
`swift deploy` subprocesses on 127.0.0.1, one with --max_batch_size 32 (batching) and one with --max_batch_size 1
(batching off), serving a ~25M-parameter Qwen2-architecture model (fp32, random weights,
bench.data.bench_model_dir); clients send short chat prompts (greedy, max_tokens 32) over HTTP. At each
concurrency the two loads alternate; the highest concurrency is repeated for --rounds rounds and the speed-up is
the median. Prints one JSON line per measurement.
"""
import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import List

import torch

from bench.data import WORDS, bench_model_dir
from tests.deploy.deploy_helpers import DeployProcess

MAX_BATCH = 32


def prompts(n: int, seed: int = 0) -> List[str]:
    rng = random.Random(seed)
    return [' '.join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))) + '?' for _ in range(n)]


def one_request(base: str, prompt: str, max_tokens: int):
    body = json.dumps({'model': 'bench', 'messages': [{'role': 'user', 'content': prompt}], 'max_tokens': max_tokens,
                       'temperature': 0}).encode()
    req = urllib.request.Request(base + '/v1/chat/completions', data=body,
                                 headers={'Content-Type': 'application/json'})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as resp:
        usage = json.loads(resp.read())['usage']
    return time.perf_counter() - start, usage['completion_tokens']


def run_load(base: str, texts: List[str], concurrency: int, max_tokens: int) -> dict:
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda t: one_request(base, t, max_tokens), texts))
    wall = time.perf_counter() - start
    latencies = sorted(r[0] for r in results)
    tokens = sum(r[1] for r in results)
    return {'requests': len(texts), 'concurrency': concurrency, 'wall_s': round(wall, 2),
            'requests_per_s': round(len(texts) / wall, 3), 'output_tokens_per_s': round(tokens / wall, 1),
            'output_tokens': tokens, 'p50_latency_s': round(statistics.median(latencies), 3),
            'p99_latency_s': round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 3)}


@contextmanager
def server(model_dir: str, root: str, max_batch_size: int):
    proc = DeployProcess(['--model', model_dir, '--torch_dtype', 'float32', '--served_model_name', 'bench',
                          '--max_batch_size', str(max_batch_size), '--verbose', 'false',
                          '--log_interval', '-1'], os.path.join(root, f'server-{max_batch_size}.log'))
    try:
        proc.wait_ready(180)
        for _ in range(2):  # warm-up
            one_request(proc.base, 'hello', 4)
        yield proc.base
    finally:
        code = proc.stop()
        if code != 0:
            print(proc.output()[-3000:], file=sys.stderr)


def serve_bench(model_dir: str, root: str, args) -> None:
    """Both servers run side by side (an idle one costs nothing), and the batched and unbatched loads alternate
    within each round, so that the machine's speed drifting over minutes does not bias the speed-up."""
    texts = prompts(args.requests)
    with server(model_dir, root, MAX_BATCH) as batched, server(model_dir, root, 1) as single:
        for concurrency in args.concurrency:
            ratios = []
            for round_ in range(args.rounds if concurrency == max(args.concurrency) else 1):
                rows = {}
                for name, base in (('max_batch_size=32', batched), ('max_batch_size=1', single)):
                    load = run_load(base, texts, concurrency, args.max_tokens)
                    rows[name] = {'config': name, 'round': round_, **load}
                    print(json.dumps(rows[name]), flush=True)
                ratios.append(rows['max_batch_size=32']['requests_per_s'] / rows['max_batch_size=1']['requests_per_s'])
            print(json.dumps({'config': 'speedup', 'concurrency': concurrency,
                              'requests_per_s_ratio': round(statistics.median(ratios), 2),
                              'rounds': [round(r, 2) for r in ratios]}), flush=True)


def _best_s(fn, repeats: int = 5) -> float:
    fn()
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_peak_gflops(n: int = 2048, repeats: int = 2) -> float:
    """The fp32 matmul rate of a large square matmul (best of `repeats`), the faster of torch's own (MKL) and
    oneDNN on a packed weight (which the engine uses; MKL does not use AVX-512 on AMD CPUs)."""
    from swift.infer.pt_linear import can_pack
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = _best_s(lambda: torch.mm(a, b), repeats)
    if can_pack(torch.nn.Linear(2, 2)):
        packed = torch.ops.mkldnn._reorder_linear_weight(b, n)
        best = min(best, _best_s(lambda: torch.ops.mkldnn._linear_pointwise(a, packed, None, 'none', [], ''),
                                 repeats))
    return 2 * n ** 3 / best / 1e9


def decode_step_flops(model, batch: int, context: int) -> float:
    """Matmul FLOPs of one decode step: every Linear (lm_head included) plus attention over `context` tokens."""
    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    cfg = model.config
    attention = 2 * 2 * context * cfg.num_attention_heads * (cfg.hidden_size // cfg.num_attention_heads)
    return batch * (2 * linear + attention * cfg.num_hidden_layers)


def gemm_floor_s(model, batch: int) -> float:
    """The model's Linear GEMMs alone at M=batch (the shapes a decode step multiplies), weights read from memory,
    through each Linear's own forward (the engine's packed one when it packed them)."""
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    inputs = {m.in_features: torch.randn(batch, m.in_features) for m in linears}
    with torch.inference_mode():
        return _best_s(lambda: [m(inputs[m.in_features]) for m in linears])


def decode_step_bench(model_dir: str, max_tokens: int, rounds: int) -> dict:
    """The engine's batch-32 decode step, (time for max_tokens tokens - time for 1 token) / (max_tokens - 1), as a
    multiple of the step's matmul FLOPs at the fp32 peak measured in the same round; median over rounds. The GEMM
    floor (the Linear GEMMs alone) is reported the same way: the part of the step no engine can remove."""
    from swift.infer import InferRequest, PtEngine, RequestConfig
    engine = PtEngine(model_dir, 'float32', max_batch_size=MAX_BATCH)
    requests = [InferRequest([{'role': 'user', 'content': p}]) for p in prompts(MAX_BATCH, seed=1)]

    def timed(tokens: int):
        best, out = float('inf'), None
        for _ in range(2):
            start = time.perf_counter()
            out = engine.infer(requests, RequestConfig(max_tokens=tokens, temperature=0))
            best = min(best, time.perf_counter() - start)
        return best, out

    engine.infer(requests, RequestConfig(max_tokens=2, temperature=0))  # warm-up
    rows = []
    for _ in range(rounds):
        peak = matmul_peak_gflops() * 1e9
        t_one, _ = timed(1)
        t_all, out = timed(max_tokens)
        step = (t_all - t_one) / (max_tokens - 1)
        context = int(sum(r.usage.prompt_tokens for r in out) / len(out) + max_tokens / 2)
        ideal = decode_step_flops(engine.model, MAX_BATCH, context) / peak
        rows.append({'step_ms': step * 1e3, 'peak_gflops': peak / 1e9, 'ideal_ms': ideal * 1e3,
                     'ratio': step / ideal, 'gemm_ratio': gemm_floor_s(engine.model, MAX_BATCH) / ideal})
    engine.close()

    def med(key: str, digits: int = 2) -> float:
        return round(statistics.median(r[key] for r in rows), digits)
    return {'config': 'decode_step', 'batch': MAX_BATCH, 'context': context, 'rounds': rounds,
            'engine_step_ms': med('step_ms'), 'matmul_peak_gflops': med('peak_gflops', 1),
            'ideal_step_ms': med('ideal_ms'), 'ratio_to_peak': med('ratio'),
            'gemm_floor_ratio_to_peak': med('gemm_ratio'), 'ratio_rounds': [round(r['ratio'], 2) for r in rows]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--requests', type=int, default=64)
    parser.add_argument('--concurrency', type=int, nargs='+', default=[1, 8, 32])
    parser.add_argument('--max_tokens', type=int, default=32)
    parser.add_argument('--rounds', type=int, default=3,
                        help='Repeats of the decode-step measurement and of the highest-concurrency load.')
    parser.add_argument('--root', default=None, help='Where the benchmark model is built (default: a temp dir).')
    args = parser.parse_args()
    threads = os.environ.get('OMP_NUM_THREADS')
    print(json.dumps({'OMP_NUM_THREADS': threads, 'torch_threads': torch.get_num_threads()}), flush=True)
    root = args.root or tempfile.mkdtemp(prefix='swift-bench-serve-')
    model_dir = bench_model_dir(root)
    print(json.dumps(decode_step_bench(model_dir, args.max_tokens, args.rounds)), flush=True)
    serve_bench(model_dir, root, args)


if __name__ == '__main__':
    main()
