"""Deterministic synthetic data and model for the benchmarks (no network)."""
import json
import os
import random
from typing import List

from swift.model.tiny import load_tiny_tokenizer, make_model_dir

WORDS = ('the model learns from data and answers questions about science history code music travel food weather '
         'numbers language people cities rivers mountains stars planets energy light sound water trees animals '
         'computers networks tokens layers attention gradient training evaluation benchmark result').split()
HANZI = '我们的模型学习数据回答问题科学历史代码音乐旅行食物天气数字语言城市河流山星光声音水树动物电脑网络'
# ~25M parameters with the tiny tokenizer's vocabulary (see print_model_size).
BENCH_MODEL = dict(hidden_size=512, intermediate_size=1536, num_hidden_layers=7, num_attention_heads=8,
                   num_key_value_heads=4, max_position_embeddings=4096)


def bench_model_dir(root: str) -> str:
    path = os.path.join(root, 'qwen2-25m')
    if not os.path.exists(os.path.join(path, 'config.json')):
        make_model_dir(path, arch='qwen2', **BENCH_MODEL)
    return path


def _sentence(rng: random.Random, n_words: int) -> str:
    if rng.random() < 0.2:
        return ''.join(rng.choice(HANZI) for _ in range(n_words))
    return ' '.join(rng.choice(WORDS) for _ in range(n_words)).capitalize() + '.'


def mixed_conversation(rng: random.Random, tokenizer, lo: int = 40, hi: int = 600) -> dict:
    """A 1-3 round conversation whose template-free token count is about uniform in [lo, hi]."""
    target = rng.randint(lo, hi)
    rounds = rng.randint(1, 3)
    messages = []
    per_round = max(8, target // rounds)
    for _ in range(rounds):
        query_tokens = max(4, per_round // 5)
        messages.append({'role': 'user', 'content': _fit(rng, tokenizer, query_tokens)})
        messages.append({'role': 'assistant', 'content': _fit(rng, tokenizer, per_round - query_tokens)})
    return {'messages': messages}


def _fit(rng: random.Random, tokenizer, n_tokens: int) -> str:
    text = ''
    while len(tokenizer.encode(text, add_special_tokens=False)) < n_tokens:
        text = (text + ' ' + _sentence(rng, rng.randint(4, 12))).strip()
    return text


def write_mixed_jsonl(path: str, rows: int, seed: int = 0, lo: int = 40, hi: int = 600) -> str:
    rng = random.Random(seed)
    tokenizer = load_tiny_tokenizer()
    with open(path, 'w', encoding='utf-8') as f:
        for _ in range(rows):
            f.write(json.dumps(mixed_conversation(rng, tokenizer, lo, hi), ensure_ascii=False) + '\n')
    return path


def write_fast_jsonl(path: str, rows: int, seed: int = 0) -> str:
    """Many rows quickly (no tokenizer in the loop) for the preprocessing throughput benchmark."""
    rng = random.Random(seed)
    with open(path, 'w', encoding='utf-8') as f:
        for _ in range(rows):
            messages: List[dict] = []
            for _ in range(rng.randint(1, 3)):
                messages.append({'role': 'user', 'content': _sentence(rng, rng.randint(5, 20))})
                messages.append({'role': 'assistant', 'content': _sentence(rng, rng.randint(10, 120))})
            f.write(json.dumps({'messages': messages}, ensure_ascii=False) + '\n')
    return path
