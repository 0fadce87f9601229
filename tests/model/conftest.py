import shutil

import pytest


@pytest.fixture(scope='session', autouse=True)
def swift_cache(private_swift_cache):
    return private_swift_cache


@pytest.fixture(scope='session')
def tiny_qwen2_dir(swift_cache):
    from swift.model import get_tiny_model_dir
    return get_tiny_model_dir('swift/tiny-qwen2')


@pytest.fixture
def copy_model_dir(tiny_qwen2_dir, tmp_path):
    """Copy the tiny Qwen2 dir under a chosen name (detection by suffix looks at the directory name)."""

    def copy(name: str) -> str:
        target = tmp_path / name
        shutil.copytree(tiny_qwen2_dir, target)
        return str(target)

    return copy
