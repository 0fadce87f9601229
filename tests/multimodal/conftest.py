import os

import pytest


@pytest.fixture(scope='session', autouse=True)
def swift_cache(tmp_path_factory):
    """Tiny models are materialised once per session into a private cache, not into ~/.cache."""
    cache = str(tmp_path_factory.mktemp('swift_cache'))
    old = os.environ.get('SWIFT_CACHE')
    os.environ['SWIFT_CACHE'] = cache
    yield cache
    if old is None:
        os.environ.pop('SWIFT_CACHE', None)
    else:
        os.environ['SWIFT_CACHE'] = old


@pytest.fixture(scope='session')
def vl_model_tokenizer(swift_cache):
    from swift.model import get_model_tokenizer
    return get_model_tokenizer('swift/tiny-qwen2-vl')


@pytest.fixture(scope='session')
def vl_tokenizer(vl_model_tokenizer):
    return vl_model_tokenizer[1]


def solid_png(path, color='red', size=(56, 56)) -> str:
    from PIL import Image
    Image.new('RGB', size, color).save(path)
    return str(path)
