import pytest


@pytest.fixture(scope='session', autouse=True)
def swift_cache(private_swift_cache):
    return private_swift_cache


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
