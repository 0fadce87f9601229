import json

import pytest

LENGTH_ORM = '''
from swift.plugin import orms


def length_reward(completions, solution, **kwargs):
    assert all(isinstance(s, str) for s in solution)  # the dataset column arrives, one per completion
    return [len(c) / 100 for c in completions]


orms['length'] = length_reward
'''


@pytest.fixture(scope='session')
def math_jsonl(tmp_path_factory):
    root = tmp_path_factory.mktemp('sample_data')
    path = root / 'math.jsonl'
    pairs = [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
    rows = [{'query': f'What is {a}+{b}?', 'solution': str(a + b)} for a, b in pairs]
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return str(path)


@pytest.fixture(scope='session')
def length_plugin(tmp_path_factory):
    path = tmp_path_factory.mktemp('plugins') / 'length_orm.py'
    path.write_text(LENGTH_ORM)
    return str(path)


def sample_argv(dataset, out_dir, name, *extra):
    return ['--model', 'swift/tiny-qwen2', '--dataset', dataset, '--output_dir', str(out_dir), '--output_file', name,
            '--max_new_tokens', '6', '--num_return_sequences', '3', '--num_sampling_per_gpu_batch_size', '2',
            '--max_batch_size', '8', *extra]


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
