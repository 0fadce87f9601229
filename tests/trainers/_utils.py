"""Helpers shared by the trainer tests."""
import json
import os


def base_argv(dataset: str, output_dir, *extra: str):
    return ['--model', 'swift/tiny-qwen2', '--dataset', dataset, '--output_dir', str(output_dir),
            '--add_version', 'false', '--report_to', 'none', '--split_dataset_ratio', '0', '--save_strategy', 'no',
            '--logging_steps', '1', '--learning_rate', '1e-3', '--lora_rank', '8', *extra]


def read_jsonl(path):
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f]


def train_losses(result):
    return [row['loss'] for row in result['log_history'] if 'loss' in row]


def listdir(path):
    return sorted(os.listdir(path))


def random_rows(seed: int, lengths, prompt: int, **extra):
    """Encoded rows of random token ids (the first `prompt` tokens unsupervised), for collator/packing checks."""
    import torch
    gen = torch.Generator().manual_seed(seed)
    rows = []
    for n in lengths:
        ids = torch.randint(10, 500, (n,), generator=gen).tolist()
        rows.append({'input_ids': ids, 'labels': [-100] * prompt + ids[prompt:], **extra})
    return rows
