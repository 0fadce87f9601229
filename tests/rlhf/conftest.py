import json
import os

import pytest

QUESTIONS = ['What is 2 plus 2?', 'Name a color.', 'Capital of France?', 'Say hello.', 'What do cows drink?',
             'Opposite of up?', 'Count to three.', 'Is fire hot?']
REWARD_PLUGIN = '''from swift.plugin import ORM, orms


class ShortAnswer(ORM):
    """Rewards short completions; also checks that the dataset column arrives."""

    def __call__(self, completions, solution, **kwargs):
        assert all(isinstance(s, str) for s in solution)
        return [1.0 / (1 + len(c)) for c in completions]


orms['short_answer'] = ShortAnswer
'''


def _write(path, rows):
    with open(path, 'w', encoding='utf-8') as f:
        for row in rows:
            f.write(json.dumps(row) + '\n')
    return str(path)


@pytest.fixture(scope='session')
def pref_jsonl(tmp_path_factory):
    """A clear preference: always 'Yes.' over 'No no no.'."""
    rows = [{'messages': [{'role': 'user', 'content': q}, {'role': 'assistant', 'content': 'Yes.'}],
             'rejected_response': 'No no no.'} for q in QUESTIONS]
    return _write(tmp_path_factory.mktemp('data') / 'pref.jsonl', rows)


@pytest.fixture(scope='session')
def kto_jsonl(tmp_path_factory):
    rows = [{'messages': [{'role': 'user', 'content': q}, {'role': 'assistant', 'content': a}], 'label': ok}
            for q in QUESTIONS for a, ok in (('Yes.', True), ('No no no.', False))]
    return _write(tmp_path_factory.mktemp('data') / 'kto.jsonl', rows)


@pytest.fixture(scope='session')
def math_jsonl(tmp_path_factory):
    rows = [{'messages': [{'role': 'user', 'content': f'What is {a}+{b}?'}], 'solution': str(a + b)}
            for a, b in ((1, 2), (2, 3), (3, 4), (4, 5))]
    return _write(tmp_path_factory.mktemp('data') / 'math.jsonl', rows)


@pytest.fixture(scope='session')
def reward_plugin(tmp_path_factory):
    path = tmp_path_factory.mktemp('plugin') / 'my_reward.py'
    path.write_text(REWARD_PLUGIN)
    return str(path)


def rlhf_argv(rlhf_type, dataset, output_dir, *extra):
    return ['--rlhf_type', rlhf_type, '--model', 'swift/tiny-qwen2', '--dataset', dataset, '--output_dir',
            str(output_dir), '--add_version', 'false', '--report_to', 'none', '--split_dataset_ratio', '0',
            '--save_strategy', 'no', '--logging_steps', '1', '--max_steps', '2', '--per_device_train_batch_size',
            '2', '--learning_rate', '1e-3', '--lora_rank', '8', *extra]


def listdir(path):
    return sorted(os.listdir(path))
