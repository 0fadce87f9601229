"""Data shared by the pipeline tests."""
import json

import pytest


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp('d') / 'chat.jsonl'
    rows = [{'messages': [{'role': 'user', 'content': f'question {i}?'},
                          {'role': 'assistant', 'content': f'answer number {i}.'}]} for i in range(8)]
    path.write_text('\n'.join(json.dumps(r) for r in rows))
    return str(path)
