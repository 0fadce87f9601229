"""Large files are turned into Arrow a chunk at a time (memory-mapped from the second chunk on), and the result is
the dataset that converting every row at once gives: same rows, same order, same column types."""
import json

import pytest
from datasets import Value

import swift.dataset.loader as loader
from swift.dataset import load_dataset


def _chat(i, **extra):
    return {'messages': [{'role': 'user', 'content': f'q {i}'}, {'role': 'assistant', 'content': f'a {i}'}], **extra}


TOOL_ROW = {'messages': [{'role': 'user', 'content': 'weather?'},
                         {'role': 'assistant', 'content': '', 'tool_calls': [
                             {'type': 'function', 'function': {'name': 'w', 'arguments': '{}'}}]},
                         {'role': 'tool', 'content': 'sunny'}, {'role': 'assistant', 'content': 'Sunny.'}]}
FILES = {
    'plain': [_chat(i) for i in range(11)],
    'column in a later chunk only': [_chat(i) for i in range(5)] + [_chat(i, solution=str(i)) for i in range(6)],
    'tool fields in a later chunk': [_chat(i) for i in range(5)] + [TOOL_ROW] * 3 + [_chat(9)],
    'types differ between chunks': [_chat(i, score=i) for i in range(4)] + [_chat(i, score=f's{i}') for i in range(5)],
}


@pytest.mark.parametrize('name', list(FILES))
def test_chunked_load_equals_one_shot(name, tmp_path, monkeypatch):
    path = tmp_path / 'data.jsonl'
    path.write_text('\n'.join(json.dumps(r) for r in FILES[name]) + '\n')
    whole, _ = load_dataset([str(path)], origins=True)
    monkeypatch.setattr(loader, 'CHUNK_ROWS', 4)
    chunked, _ = load_dataset([str(path)], origins=True)
    assert list(chunked) == list(whole)
    if name == 'tool fields in a later chunk':  # aligned as two files would be: all-null fields become strings
        assert all(v == Value('string') for v in chunked.features['messages'].feature.values())
    else:
        assert chunked.features == whole.features
    if name == 'plain':
        assert whole.cache_files == [] and len(chunked.cache_files) == 3  # memory-mapped chunks
