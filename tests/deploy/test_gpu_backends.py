"""`swift deploy --infer_backend vllm|lmdeploy`: the same client checks as the pt engine, on a GPU only."""
import importlib.util

import openai
import pytest

from .deploy_helpers import DeployProcess

pytestmark = pytest.mark.gpu


def _skip_reason(backend: str):
    if importlib.util.find_spec(backend) is None:
        return f'needs the {backend} package (GPU environment: pip install "swift-tuner[{backend}]")'
    import torch
    if not torch.cuda.is_available():
        return f'{backend} needs a CUDA GPU'
    return None


@pytest.mark.parametrize('backend', ['vllm', 'lmdeploy'])
def test_gpu_backend_serves_openai_api(backend, tmp_path):
    reason = _skip_reason(backend)
    if reason:
        pytest.skip(reason)
    argv = ['--model', 'swift/tiny-qwen2', '--torch_dtype', 'float16', '--infer_backend', backend,
            '--served_model_name', 'tiny', '--max_length', '512']
    proc = DeployProcess(argv, str(tmp_path / 'server.log'))
    try:
        proc.wait_ready(600)
        client = openai.OpenAI(base_url=proc.base + '/v1', api_key='none', max_retries=0)
        messages = [{'role': 'user', 'content': 'Tell me about rivers.'}]
        resp = client.chat.completions.create(model='tiny', messages=messages, max_tokens=8, temperature=0)
        assert resp.usage.completion_tokens <= 8 and resp.choices[0].message.content is not None
        chunks = list(client.chat.completions.create(model='tiny', messages=messages, max_tokens=8, temperature=0,
                                                     stream=True, stream_options={'include_usage': True}))
        text = ''.join(c.choices[0].delta.content or '' for c in chunks if c.choices)
        assert text == resp.choices[0].message.content
        assert chunks[-1].usage.completion_tokens == resp.usage.completion_tokens
    finally:
        assert proc.stop() == 0, proc.output()[-3000:]
