"""The pt engine with images: vision tensors go into the prefill, mixed text-only / image batches give the same
outputs as one request at a time (prefix cache, beams and n > 1 included)."""
import pytest
from PIL import Image

SYSTEM = 'You are a careful assistant who looks at pictures and answers briefly.'  # a shared prefix to cache
RED, BLUE = Image.new('RGB', (40, 30), 'red'), Image.new('RGB', (20, 50), (0, 0, 255))


@pytest.fixture(scope='module')
def vl_engine():
    from swift.infer import PtEngine
    return PtEngine('swift/tiny-llava', max_batch_size=8)


def _requests():
    from swift.infer import InferRequest

    def ask(text, images=()):
        return InferRequest([{'role': 'system', 'content': SYSTEM}, {'role': 'user', 'content': text}],
                            images=list(images))
    return [ask('<image>What colour?', [RED]), ask('Hello there'), ask('<image>What colour?', [BLUE]),
            ask('<image><image>Compare them.', [BLUE, RED]), ask('Another text-only question')]


def _texts(responses):
    return [[c.message.content for c in r.choices] for r in responses]


def test_mixed_batch_equals_one_at_a_time(vl_engine):
    from swift.infer import RequestConfig
    config = RequestConfig(max_tokens=8, temperature=0)
    requests = _requests()
    batched = _texts(vl_engine.infer(requests, config))
    single = [_texts(vl_engine.infer([r], config))[0] for r in requests]
    assert batched == single
    assert batched[0] != batched[2]  # the image changes the answer: the pixels reached the model


def test_sampled_n_and_beams_with_images(vl_engine):
    from swift.infer import RequestConfig
    request = _requests()[0]
    sampled = RequestConfig(max_tokens=6, temperature=1.0, seed=3, n=2)
    first = _texts(vl_engine.infer([request], sampled))
    assert first == _texts(vl_engine.infer([request, _requests()[1]], sampled))[:1]
    beams = vl_engine.infer([request], RequestConfig(max_tokens=6, temperature=0, num_beams=2))[0]
    assert beams.choices[0].message.content


def test_usage_counts_the_image_tokens(vl_engine):
    from swift.infer import RequestConfig
    with_image, text_only = vl_engine.infer(_requests()[:2], RequestConfig(max_tokens=2, temperature=0))
    prompt = vl_engine.template.encode(_requests()[0].to_row(), mode='infer')['input_ids']
    assert with_image.usage.prompt_tokens == len(prompt) > text_only.usage.prompt_tokens
