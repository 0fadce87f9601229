import pytest

from ._utils import tokenizer


@pytest.fixture(scope='session')
def qwen_tok():
    return tokenizer()


@pytest.fixture(scope='session')
def llama_tok():
    return tokenizer('swift/tiny-llama')
