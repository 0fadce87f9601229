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


def assert_engine_matches_generate(engine, requests, steps=4):
    """The engine's batched top-5 logprobs at every step equal transformers' generate on each request alone (the
    model then computes its own positions and vision features)."""
    import torch
    from swift.infer import RequestConfig
    template, model = engine.template, engine.model
    outs = engine.infer(requests, RequestConfig(max_tokens=steps, temperature=0, logprobs=True, top_logprobs=5))
    for request, out in zip(requests, outs):
        text = template.render_text(request.to_row(), 'infer')
        inputs = template.processor(text=[text], images=request.images or None, return_tensors='pt')
        assert template.encode(request.to_row(), 'infer')['input_ids'] == inputs['input_ids'][0].tolist()
        ref = model.generate(**inputs, max_new_tokens=steps, do_sample=False, output_logits=True,
                             return_dict_in_generate=True)
        entries = out.choices[0].logprobs['content']
        assert len(entries) == len(ref.logits)
        for entry, logits in zip(entries, ref.logits):
            expected = torch.log_softmax(logits[0].float(), -1).topk(5).values
            got = torch.tensor([t['logprob'] for t in entry['top_logprobs']])
            assert torch.allclose(got, expected, atol=1e-4)


def test_llava_engine_matches_transformers_generate(vl_engine):
    assert_engine_matches_generate(vl_engine, _requests()[:4])


def test_qwen2_vl_engine_matches_transformers_generate():
    """Multimodal RoPE: the engine's 3-D prefill positions (the model's get_rope_index) and the 1-D decode
    positions after them give transformers' own results, in a batch mixing image and text-only rows."""
    from swift.infer import InferRequest, PtEngine
    engine = PtEngine('swift/tiny-qwen2-vl', max_batch_size=4)
    red, wide = Image.new('RGB', (56, 56), 'red'), Image.new('RGB', (112, 56), 'blue')
    requests = [InferRequest([{'role': 'user', 'content': '<image>What colour?'}], images=[red]),
                InferRequest([{'role': 'user', 'content': 'Only text here, a little longer.'}]),
                InferRequest([{'role': 'user', 'content': '<image>and<image>?'}], images=[wide, red])]
    assert_engine_matches_generate(engine, requests)
