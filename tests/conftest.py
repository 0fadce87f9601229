"""Suite-wide settings."""
import json
import os

import pytest
import torch

# Tiny-model matmuls gain nothing from a second OpenMP thread, and on a shared 2-core machine spinning threads
# slow tests down many times over. Subprocess tests inherit this through the environment.
os.environ.setdefault('OMP_NUM_THREADS', '1')
torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))


def _write_chat_jsonl(path, pairs):
    """One OpenAI-messages row per (question, answer) pair."""
    with open(path, 'w', encoding='utf-8') as f:
        for q, a in pairs:
            row = {'messages': [{'role': 'user', 'content': q}, {'role': 'assistant', 'content': a}]}
            f.write(json.dumps(row) + '\n')
    return str(path)


@pytest.fixture(scope='session')
def make_chat_jsonl(tmp_path_factory):
    """`make_chat_jsonl(pairs, name='chat.jsonl') -> path` of a fresh file of Q/A conversations."""
    return lambda pairs, name='chat.jsonl': _write_chat_jsonl(tmp_path_factory.mktemp('data') / name, pairs)


@pytest.fixture(scope='session')
def private_swift_cache(tmp_path_factory):
    """A session-private SWIFT_CACHE (tiny models materialised there, not into ~/.cache); the model and
    multimodal tests use it for every test."""
    cache = str(tmp_path_factory.mktemp('swift_cache'))
    old = os.environ.get('SWIFT_CACHE')
    os.environ['SWIFT_CACHE'] = cache
    yield cache
    if old is None:
        os.environ.pop('SWIFT_CACHE', None)
    else:
        os.environ['SWIFT_CACHE'] = old
