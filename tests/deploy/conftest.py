"""One `swift deploy` subprocess for the deploy tests on 127.0.0.1 (tiny-qwen2 plus a random LoRA adapter)."""
import pytest

from .deploy_helpers import ADAPTER, API_KEY, DeployProcess, make_lora


@pytest.fixture(scope='session')
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp('deploy')
    adapter = make_lora(str(root / 'lora'))
    proc = DeployProcess(['--model', 'swift/tiny-qwen2', '--torch_dtype', 'float32', '--api_key', API_KEY,
                          '--served_model_name', 'tiny', '--adapters', f'{ADAPTER}={adapter}', '--max_length', '512',
                          '--max_batch_size', '4', '--max_logprobs', '5', '--log_interval', '1'],
                         str(root / 'server.log'))
    try:
        proc.wait_ready()
        yield proc
    finally:
        code = proc.stop()
    out = proc.output()
    assert code == 0, f'swift deploy exited with {code} after SIGTERM:\n{out[-3000:]}'
