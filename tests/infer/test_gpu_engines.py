"""vllm and lmdeploy engines: the same checks as the pt engine; they need a CUDA GPU and their packages."""
import importlib.util

import pytest

from ._utils import PROMPTS, requests

torch = pytest.importorskip('torch')
pytestmark = pytest.mark.gpu


def _needs(package):
    if not torch.cuda.is_available():
        pytest.skip('needs a CUDA GPU')
    if importlib.util.find_spec(package) is None:
        pytest.skip(f'needs the {package} package (GPU environment: pip install "swift-tuner[{package}]")')


def _engine(backend):
    if backend == 'vllm':
        from swift.infer import VllmEngine
        return VllmEngine('swift/tiny-qwen2', 'float16', gpu_memory_utilization=0.3, max_model_len=1024,
                          enforce_eager=True)
    from swift.infer import LmdeployEngine
    return LmdeployEngine('swift/tiny-qwen2', 'float16', session_len=1024, cache_max_entry_count=0.3)


@pytest.fixture(scope='module', params=['vllm', 'lmdeploy'])
def gpu_engine(request):
    _needs(request.param)
    return _engine(request.param)


def test_greedy_usage_and_stream(gpu_engine):
    from swift.infer import RequestConfig
    config = RequestConfig(max_tokens=8, temperature=0)
    responses = gpu_engine.infer(requests(), config)
    for prompt, response in zip(PROMPTS, responses):
        prompt_len = len(gpu_engine.template.encode(requests([prompt])[0].to_row(), mode='infer')['input_ids'])
        assert response.usage.prompt_tokens == prompt_len
        assert response.usage.completion_tokens <= 8
    config.stream = True
    chunks = list(gpu_engine.infer(requests(PROMPTS[:1]), config)[0])
    assert ''.join(c.choices[0].delta.content or '' for c in chunks) == responses[0].choices[0].message.content


def test_logprobs_and_stop(gpu_engine):
    from swift.infer import RequestConfig
    config = RequestConfig(max_tokens=8, temperature=0, logprobs=True, top_logprobs=2)
    full = gpu_engine.infer(requests(PROMPTS[:1]), config)[0]
    entries = full.choices[0].logprobs['content']
    assert entries and all(e['logprob'] <= 0 and len(e['top_logprobs']) >= 1 for e in entries)
    text = full.choices[0].message.content
    if len(text) > 6:
        stop = text[3:6]
        cut = gpu_engine.infer(requests(PROMPTS[:1]), RequestConfig(max_tokens=8, temperature=0, stop=[stop]))[0]
        assert cut.choices[0].message.content.endswith(stop)


def test_vllm_takes_images_as_multi_modal_data():
    """The image reaches vLLM's model: two colours, two different greedy answers; same prompt tokens as pt."""
    _needs('vllm')
    from PIL import Image
    from swift.infer import InferRequest, RequestConfig, VllmEngine
    engine = VllmEngine('swift/tiny-llava', 'float16', gpu_memory_utilization=0.3, max_model_len=1024,
                        enforce_eager=True, limit_mm_per_prompt={'image': 2})
    asks = [InferRequest([{'role': 'user', 'content': '<image>What colour?'}], images=[Image.new('RGB', (40, 30), c)])
            for c in ('red', 'blue')]
    out = engine.infer(asks, RequestConfig(max_tokens=8, temperature=0, logprobs=True, top_logprobs=3))
    assert out[0].usage.prompt_tokens == len(engine.template.encode(asks[0].to_row(), mode='infer')['input_ids'])
    assert out[0].choices[0].logprobs != out[1].choices[0].logprobs


def test_lmdeploy_refuses_images_in_one_line():
    _needs('lmdeploy')
    from PIL import Image
    from swift.infer import InferRequest, LmdeployEngine
    from swift.utils import SwiftError
    engine = LmdeployEngine('swift/tiny-llava', 'float16', session_len=1024, cache_max_entry_count=0.3)
    with pytest.raises(SwiftError, match='text-only prompts'):
        engine.infer([InferRequest([{'role': 'user', 'content': '<image>hi'}], images=[Image.new('RGB', (8, 8))])])
