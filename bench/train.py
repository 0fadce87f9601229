"""Training throughput of `swift sft` against a plain PyTorch loop on the same batches, and preprocessing speed.

usage: OMP_NUM_THREADS=2 python bench/train.py [--rows 32] [--repeats 3] [--encode_rows 100000]

Real tokens/s counts non-pad tokens only. Both sides: a ~25M-parameter Qwen2-architecture model, fp32, batch 4,
max_length 512, gradient checkpointing off, AdamW, the same encoded samples in the same (sequential) order,
one epoch. Packing runs the same samples packed into 512-token rows.
"""
import argparse
import json
import os
import statistics
import tempfile
import time

import torch

from bench.data import bench_model_dir, write_fast_jsonl, write_mixed_jsonl
from swift.dataset import encode_dataset, load_dataset
from swift.model import get_model_tokenizer
from swift.pipelines.sft import sft_main
from swift.template import get_template

MAX_LENGTH, BATCH = 512, 4


def swift_run(model_dir, data, out, train_type, packing=False) -> float:
    """Seconds of `swift sft` training (trainer's train_runtime)."""
    result = sft_main([
        '--model', model_dir, '--dataset', data, '--train_type', train_type, '--max_length', str(MAX_LENGTH),
        '--per_device_train_batch_size', str(BATCH), '--num_train_epochs', '1', '--gradient_checkpointing', 'false',
        '--torch_dtype', 'float32', '--split_dataset_ratio', '0', '--save_strategy', 'no', '--report_to', 'none',
        '--train_sampling_strategy', 'sequential', '--logging_steps', '1000', '--add_version', 'false',
        '--output_dir', out, '--packing', str(packing).lower(), '--plot_loss', 'false', '--dataloader_num_workers',
        '0'])
    return next(h['train_runtime'] for h in result['log_history'] if 'train_runtime' in h)


def encoded_samples(model_dir, data):
    _, tokenizer = get_model_tokenizer(model_dir, load_model=False)
    template = get_template('qwen2_5', tokenizer, max_length=MAX_LENGTH)
    train, _ = load_dataset([data])
    encoded, _ = encode_dataset(train, template)
    return template, [encoded[i] for i in range(len(encoded))]


def plain_run(model_dir, template, samples, train_type) -> float:
    """The same forward/backward/step in a bare loop: the ceiling our trainer is compared with."""
    model, _ = get_model_tokenizer(model_dir, 'float32')
    if train_type == 'lora':
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=32, lora_dropout=0.05, target_modules='all-linear'))
    lr = 1e-4 if train_type == 'lora' else 1e-5
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.1, fused=True)
    steps = (len(samples) + BATCH - 1) // BATCH
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    model.train()
    start = time.perf_counter()
    for i in range(steps):
        batch = template.data_collator(samples[i * BATCH:(i + 1) * BATCH])
        loss = model(input_ids=batch['input_ids'], attention_mask=batch['attention_mask'],
                     labels=batch['labels']).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    return time.perf_counter() - start


def encode_throughput(root, rows) -> dict:
    path = write_fast_jsonl(os.path.join(root, 'encode.jsonl'), rows)
    _, tokenizer = get_model_tokenizer(bench_model_dir(root), load_model=False)
    template = get_template('qwen2_5', tokenizer, max_length=MAX_LENGTH)
    start = time.perf_counter()
    train, _ = load_dataset([path])
    loaded = time.perf_counter()
    _, stats = encode_dataset(train, template)
    done = time.perf_counter()
    return {'rows': rows, 'load_rows_per_s': rows / (loaded - start), 'encode_rows_per_s': rows / (done - loaded),
            'encode_tokens_per_s': sum(stats.lengths) / (done - loaded), 'total_rows_per_s': rows / (done - start)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', type=int, default=32, help='conversations per run (rows/4 steps)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--encode_rows', type=int, default=100000)
    parser.add_argument('--root', default=os.path.join(tempfile.gettempdir(), 'swift-bench'))
    parser.add_argument('--skip', nargs='*', default=[], choices=['lora', 'full', 'packing', 'encode'])
    ns = parser.parse_args()
    os.makedirs(ns.root, exist_ok=True)
    torch.manual_seed(0)
    model_dir = bench_model_dir(ns.root)
    n_params = sum(p.numel() for p in get_model_tokenizer(model_dir, 'float32')[0].parameters())
    data = write_mixed_jsonl(os.path.join(ns.root, f'mixed-{ns.rows}.jsonl'), ns.rows)
    template, samples = encoded_samples(model_dir, data)
    real_tokens = sum(len(s['input_ids']) for s in samples)
    report = {'omp_num_threads': os.environ.get('OMP_NUM_THREADS'), 'torch_threads': torch.get_num_threads(),
              'params_m': round(n_params / 1e6, 1), 'samples': len(samples), 'real_tokens': real_tokens}
    print(json.dumps(report))
    for train_type in ('lora', 'full'):
        if train_type in ns.skip:
            continue
        ours, plain, packed = [], [], []
        for r in range(ns.repeats):
            out = os.path.join(ns.root, f'out-{train_type}')
            plain.append(plain_run(model_dir, template, samples, train_type))
            ours.append(swift_run(model_dir, data, out, train_type))
            if 'packing' not in ns.skip:
                packed.append(swift_run(model_dir, data, out, train_type, packing=True))
        row = {'train_type': train_type, 'plain_tok_s': real_tokens / statistics.median(plain),
               'swift_tok_s': real_tokens / statistics.median(ours)}
        row['ratio'] = row['swift_tok_s'] / row['plain_tok_s']
        if packed:
            row['swift_packing_tok_s'] = real_tokens / statistics.median(packed)
            row['packing_speedup'] = row['swift_packing_tok_s'] / row['swift_tok_s']
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    if 'encode' not in ns.skip:
        print(json.dumps({k: round(v, 1) for k, v in encode_throughput(ns.root, ns.encode_rows).items()}))


if __name__ == '__main__':
    main()
