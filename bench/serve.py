"""Serving throughput of `swift deploy` (pt engine) with and without batching, and the decode step against the
CPU's measured fp32 matmul peak.

usage: OMP_NUM_THREADS=2 python -m bench.serve [--requests 64] [--concurrency 1 8 32] [--max_tokens 32]

The server is a `swift deploy` subprocess on 127.0.0.1 serving a ~25M-parameter Qwen2-architecture model (fp32,
random weights, bench.data.bench_model_dir); clients send short chat prompts (greedy, max_tokens 32) over HTTP.
It runs once with --max_batch_size 32 (batching) and once with --max_batch_size 1 (batching off).
Prints one JSON line per configuration, then the decode-step line.
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


def serve_bench(model_dir: str, root: str, max_batch_size: int, args) -> List[dict]:
    proc = DeployProcess(['--model', model_dir, '--torch_dtype', 'float32', '--served_model_name', 'bench',
                          '--max_batch_size', str(max_batch_size), '--verbose', 'false',
                          '--log_interval', '-1'], os.path.join(root, f'server-{max_batch_size}.log'))
    rows = []
    try:
        proc.wait_ready(180)
        for _ in range(2):  # warm-up
            one_request(proc.base, 'hello', 4)
        for concurrency in args.concurrency:
            row = run_load(proc.base, prompts(args.requests), concurrency, args.max_tokens)
            row = {'config': f'max_batch_size={max_batch_size}', **row}
            print(json.dumps(row), flush=True)
            rows.append(row)
    finally:
        code = proc.stop()
        if code != 0:
            print(proc.output()[-3000:], file=sys.stderr)
    return rows


def matmul_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9


def decode_step_flops(model, batch: int, context: int) -> float:
    """Matmul FLOPs of one decode step: every Linear (lm_head included) plus attention over `context` tokens."""
    linear = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    cfg = model.config
    attention = 2 * 2 * context * cfg.num_attention_heads * (cfg.hidden_size // cfg.num_attention_heads)
    return batch * (2 * linear + attention * cfg.num_hidden_layers)


def _median_ms(fn, repeats: int = 15) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


@torch.inference_mode()
def floor_breakdown(model, batch: int, context: int) -> dict:
    """Where a decode step's time goes below the engine: the model's Linear GEMMs alone at M=batch (the shapes a
    decode step multiplies), and one transformers forward with a KV cache of `context` tokens."""
    from transformers import DynamicCache
    weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    inputs = {w.shape[1]: torch.randn(batch, w.shape[1]) for w in weights}
    linear_ms = _median_ms(lambda: [torch.mm(inputs[w.shape[1]], w.t()) for w in weights])
    ids = torch.randint(0, model.config.vocab_size, (batch, context))
    cache = DynamicCache(config=model.config)
    model(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
    step = torch.randint(0, model.config.vocab_size, (batch, 1))
    mask = torch.ones(batch, context + 1, dtype=torch.long)

    def forward():
        model(input_ids=step, attention_mask=mask, past_key_values=cache, use_cache=True, logits_to_keep=1)
        cache.crop(-1)  # keep the context length fixed across repeats
    return {'linear_gemms_ms': round(linear_ms, 2), 'hf_forward_ms': round(_median_ms(forward), 2)}


def decode_step_bench(model_dir: str, max_tokens: int) -> dict:
    """The engine's batch-32 decode step: (time for max_tokens tokens - time for 1 token) / (max_tokens - 1)."""
    from swift.infer import InferRequest, PtEngine, RequestConfig
    engine = PtEngine(model_dir, 'float32', max_batch_size=MAX_BATCH)
    requests = [InferRequest([{'role': 'user', 'content': p}]) for p in prompts(MAX_BATCH, seed=1)]

    def timed(tokens: int):
        engine.infer(requests[:2], RequestConfig(max_tokens=2, temperature=0))  # warm-up
        best = float('inf')
        for _ in range(3):
            start = time.perf_counter()
            out = engine.infer(requests, RequestConfig(max_tokens=tokens, temperature=0))
            best = min(best, time.perf_counter() - start)
        return best, out

    t_one, _ = timed(1)
    t_all, out = timed(max_tokens)
    step = (t_all - t_one) / (max_tokens - 1)
    context = int(sum(r.usage.prompt_tokens for r in out) / len(out) + max_tokens / 2)
    flops = decode_step_flops(engine.model, MAX_BATCH, context)
    peak = matmul_peak_gflops()
    ideal = flops / (peak * 1e9)
    floors = floor_breakdown(engine.model, MAX_BATCH, context)
    engine.close()
    return {'config': 'decode_step', 'batch': MAX_BATCH, 'context': context, 'engine_step_ms': round(step * 1e3, 2),
            **floors, 'step_gflop': round(flops / 1e9, 3), 'matmul_peak_gflops': round(peak, 1),
            'ideal_step_ms': round(ideal * 1e3, 2), 'ratio_to_peak': round(step / ideal, 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--requests', type=int, default=64)
    parser.add_argument('--concurrency', type=int, nargs='+', default=[1, 8, 32])
    parser.add_argument('--max_tokens', type=int, default=32)
    parser.add_argument('--root', default=None, help='Where the benchmark model is built (default: a temp dir).')
    args = parser.parse_args()
    threads = os.environ.get('OMP_NUM_THREADS')
    print(json.dumps({'OMP_NUM_THREADS': threads, 'torch_threads': torch.get_num_threads()}), flush=True)
    root = args.root or tempfile.mkdtemp(prefix='swift-bench-serve-')
    model_dir = bench_model_dir(root)
    print(json.dumps(decode_step_bench(model_dir, args.max_tokens)), flush=True)
    batched = serve_bench(model_dir, root, MAX_BATCH, args)
    single = serve_bench(model_dir, root, 1, args)
    for b, s in zip(batched, single):
        print(json.dumps({'config': 'speedup', 'concurrency': b['concurrency'],
                          'requests_per_s_ratio': round(b['requests_per_s'] / s['requests_per_s'], 2)}), flush=True)


if __name__ == '__main__':
    main()
