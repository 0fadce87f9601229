"""Evaluation and sampling throughput.

usage: OMP_NUM_THREADS=1 python -m bench.eval_sample [--samples 64] [--prompts 8] [--max_tokens 16]

Eval: one `swift deploy` subprocess (pt engine, --max_batch_size 16) serves the ~25M-parameter bench model
(bench.data.bench_model_dir, fp32, random weights) on 127.0.0.1; a general_qa set of --samples short questions is
evaluated (greedy, --max_tokens) by `swift eval --eval_url ... --eval_num_proc 16`, and by evalscope pointed at
the same server with eval_batch_size 1 (serial requests). Samples/s = samples / wall seconds of the run.
Sample: `swift sample` in this process over --prompts prompts, 8 completions each (--num_return_sequences 8,
temperature 1), 2 prompts per engine call (--num_sampling_per_gpu_batch_size 2), with the pt engine at
--max_batch_size 1 (one prompt's 8 completions decode together) and 16 (both prompts' 16 completions decode
together). Completions/s = completions / wall seconds of the run (model load included). Prints one JSON line per
measurement.
"""
import argparse
import json
import os
import tempfile
import time

from bench.data import WORDS, bench_model_dir
from tests.deploy.deploy_helpers import DeployProcess


def write_qa(root: str, n: int) -> str:
    words = list(WORDS)
    folder = os.path.join(root, 'qa')
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'default.jsonl'), 'w') as f:
        for i in range(n):
            query = ' '.join(words[(i * 7 + k) % len(words)] for k in range(8)) + '?'
            f.write(json.dumps({'query': query, 'response': words[i % len(words)]}) + '\n')
    return folder


def bench_eval(root: str, model: str, samples: int, max_tokens: int):
    from evalscope import TaskConfig, run_task
    from swift.pipelines.eval import eval_main
    qa = write_qa(root, samples)
    dataset_args = {'general_qa': {'local_path': qa, 'subset_list': ['default']}}
    server = DeployProcess(['--model', model, '--max_batch_size', '16', '--verbose', 'false', '--served_model_name',
                            'bench', '--log_interval', '-1'], os.path.join(root, 'deploy.log'))
    try:
        server.wait_ready(300)
        url = f'{server.base}/v1'
        start = time.time()
        eval_main(['--eval_url', url, '--eval_dataset', 'general_qa', '--eval_dataset_args', json.dumps(dataset_args),
                   '--eval_num_proc', '16', '--max_new_tokens', str(max_tokens), '--eval_output_dir',
                   os.path.join(root, 'swift_eval')])
        swift_s = time.time() - start
        start = time.time()
        run_task(TaskConfig(model='bench', api_url=url, api_key='EMPTY', eval_type='openai_api',
                            datasets=['general_qa'], dataset_args=dataset_args, eval_batch_size=1,
                            generation_config={'max_tokens': max_tokens, 'temperature': 0},
                            work_dir=os.path.join(root, 'evalscope_serial')))
        serial_s = time.time() - start
    finally:
        server.stop()
    for name, seconds in (('swift eval --eval_num_proc 16', swift_s), ('evalscope serial', serial_s)):
        print(json.dumps({'bench': 'eval', 'run': name, 'samples': samples, 'seconds': round(seconds, 2),
                          'samples_per_s': round(samples / seconds, 2)}), flush=True)


def bench_sample(root: str, model: str, prompts: int, max_tokens: int):
    from swift.pipelines.sample import sample_main
    words = list(WORDS)
    data = os.path.join(root, 'prompts.jsonl')
    with open(data, 'w') as f:
        for i in range(prompts):
            f.write(json.dumps({'query': ' '.join(words[(i * 5 + k) % len(words)] for k in range(10))}) + '\n')
    for batch in (1, 16):
        start = time.time()
        result = sample_main(['--model', model, '--dataset', data, '--num_return_sequences', '8', '--max_new_tokens',
                              str(max_tokens), '--max_batch_size', str(batch), '--num_sampling_per_gpu_batch_size',
                              '2', '--output_dir', root, '--output_file', f'b{batch}.jsonl'])
        seconds = time.time() - start
        print(json.dumps({'bench': 'sample', 'max_batch_size': batch, 'completions': result['samples'],
                          'seconds': round(seconds, 2), 'completions_per_s': round(result['samples'] / seconds, 2)}),
              flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--samples', type=int, default=64)
    parser.add_argument('--prompts', type=int, default=8)
    parser.add_argument('--max_tokens', type=int, default=16)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        model = bench_model_dir(os.path.join(root, 'model'))
        bench_eval(root, model, opts.samples, opts.max_tokens)
        bench_sample(root, model, opts.prompts, opts.max_tokens)


if __name__ == '__main__':
    main()
