import json

import pytest

QA = [('What is 2 plus 2?', 'Four.'), ('Name a color.', 'Blue.'), ('Capital of France?', 'Paris.'),
      ('Say hello.', 'Hello there!'), ('What do cows drink?', 'Water, mostly.'), ('Opposite of up?', 'Down.'),
      ('Count to three.', 'One, two, three.'), ('Is fire hot?', 'Yes, very hot.')]


@pytest.fixture(scope='session')
def chat_jsonl(make_chat_jsonl):
    return make_chat_jsonl(QA)


@pytest.fixture(scope='session')
def text_jsonl(tmp_path_factory):
    path = tmp_path_factory.mktemp('data') / 'text.jsonl'
    with open(path, 'w', encoding='utf-8') as f:
        for q, a in QA:
            f.write(json.dumps({'text': f'{q} {a}'}) + '\n')
    return str(path)


@pytest.fixture(scope='package', autouse=True)
def one_torch_thread():
    """The tiny model gains nothing from a second thread, and on a shared 2-core machine spinning OpenMP
    threads slow every step down several times."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
