"""PtEngine: batching, stopping, usage, logprobs, sampling, streaming, adapters, async API."""
import asyncio

import pytest
import torch

from swift.infer import AdapterRequest, InferRequest, PtEngine, RequestConfig
from swift.infer.utils import IncrementalDecoder
from ._utils import PROMPTS, requests

GREEDY = RequestConfig(max_tokens=12, temperature=0)


def texts(responses):
    return [r.choices[0].message.content for r in responses]


def test_greedy_batch_equals_one_by_one(engine):
    batched = texts(engine.infer(requests(), GREEDY))
    single = [texts(engine.infer([r], GREEDY))[0] for r in requests()]
    assert batched == single
    assert all(batched)


def test_usage_counts_exact(engine):
    config = RequestConfig(max_tokens=7, temperature=0)
    response = engine.infer(requests(PROMPTS[2:3]), config)[0]
    prompt_len = len(engine.template.encode(requests(PROMPTS[2:3])[0].to_row(), mode='infer')['input_ids'])
    assert response.usage.prompt_tokens == prompt_len
    assert response.usage.completion_tokens == 7
    assert response.usage.total_tokens == prompt_len + 7
    assert response.choices[0].finish_reason == 'length'


def test_stop_word_kept_and_eos_removed(engine, model_template):
    full = texts(engine.infer(requests(PROMPTS[:1]), GREEDY))[0]
    stop = full[3:6]
    text = texts(engine.infer(requests(PROMPTS[:1]), RequestConfig(max_tokens=12, temperature=0, stop=[stop])))[0]
    assert text.endswith(stop) and full.startswith(text) and len(text) < len(full)
    # make the token greedy decoding produces first an end token: it ends the output and is not shown
    model, template = model_template
    first = engine.infer(requests(PROMPTS[:1]), RequestConfig(max_tokens=1, temperature=0, logprobs=True))[0]
    first_id = template.tokenizer.encode(first.choices[0].message.content, add_special_tokens=False)[0]
    eos_engine = PtEngine.from_model_template(model, template)
    eos_engine.end_ids = eos_engine.end_ids | {first_id}
    response = eos_engine.infer(requests(PROMPTS[:1]), GREEDY)[0]
    assert response.choices[0].message.content == ''
    assert response.choices[0].finish_reason == 'stop'
    assert response.usage.completion_tokens == 1


def test_logprobs_match_manual_forward(engine, model_template):
    model, template = model_template
    config = RequestConfig(max_tokens=5, temperature=0, logprobs=True, top_logprobs=3)
    response = engine.infer(requests(PROMPTS[1:2]), config)[0]
    entries = response.choices[0].logprobs['content']
    ids = template.encode(requests(PROMPTS[1:2])[0].to_row(), mode='infer')['input_ids']
    with torch.no_grad():
        for entry in entries:
            logp = model(torch.tensor([ids])).logits[0, -1].float().log_softmax(-1)
            top = logp.topk(3)
            assert entry['logprob'] == pytest.approx(top.values[0].item(), abs=1e-4)
            assert [t['logprob'] for t in entry['top_logprobs']] == pytest.approx(top.values.tolist(), abs=1e-4)
            ids.append(top.indices[0].item())


def test_n_and_seed(engine):
    config = RequestConfig(max_tokens=10, temperature=1.0, n=3, seed=7)
    a = engine.infer(requests(PROMPTS[:1]), config)[0]
    b = engine.infer(requests(PROMPTS[:1]), config)[0]
    assert len(a.choices) == 3 and [c.index for c in a.choices] == [0, 1, 2]
    assert [c.message.content for c in a.choices] == [c.message.content for c in b.choices]
    assert len({c.message.content for c in a.choices}) > 1
    assert a.usage.completion_tokens == 30
    other = engine.infer(requests(PROMPTS[:1]), RequestConfig(max_tokens=10, temperature=1.0, n=3, seed=8))[0]
    assert [c.message.content for c in other.choices] != [c.message.content for c in a.choices]


def test_stream_concatenates_to_non_stream(engine):
    for prompt in (PROMPTS[2], PROMPTS[3]):
        config = RequestConfig(max_tokens=16, temperature=1.0, seed=3)
        full = engine.infer(requests([prompt]), config)[0]
        config.stream = True
        chunks = list(engine.infer(requests([prompt]), config)[0])
        assert ''.join(c.choices[0].delta.content or '' for c in chunks) == full.choices[0].message.content
        assert chunks[0].choices[0].delta.role == 'assistant'
        assert chunks[-1].choices[0].finish_reason == full.choices[0].finish_reason
        assert chunks[-1].usage == full.usage
        assert len({c.id for c in chunks}) == 1


def test_incremental_decoder_keeps_multibyte_characters_whole(model_template):
    tokenizer = model_template[1].tokenizer
    text = '你好，世界！🙂 中文测试 ünïcödé'
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert len(ids) > 5
    decoder = IncrementalDecoder(tokenizer)
    deltas = [decoder.step(i) for i in ids] + [decoder.flush()]
    assert all('\ufffd' not in d for d in deltas)
    assert ''.join(deltas) == text


def test_adapters_by_name_and_base(model_template, lora_dir):
    from swift.model import get_model_tokenizer
    model, template = model_template
    fresh, _ = get_model_tokenizer('swift/tiny-qwen2')  # the adapter wraps this copy
    engine = PtEngine.from_model_template(fresh, template, max_batch_size=8, adapters={'mylora': lora_dir})
    base_engine = PtEngine.from_model_template(model, template)
    lora = AdapterRequest('mylora')
    base = texts(engine.infer(requests(), GREEDY))
    tuned = texts(engine.infer(requests(), GREEDY, adapter_request=lora))
    assert base == texts(base_engine.infer(requests(), GREEDY))
    assert tuned != base

    async def mixed():  # concurrent requests for both: batches never mix adapters
        calls = [engine.infer_async(r, GREEDY, adapter_request=a) for r in requests() for a in (None, lora)]
        return await asyncio.gather(*calls)

    out = texts(asyncio.run(mixed()))
    assert out[0::2] == base and out[1::2] == tuned
    with pytest.raises(Exception, match='Unknown adapter'):
        engine.infer(requests()[:1], GREEDY, adapter_request=AdapterRequest('nope'))


def test_async_stream_and_cancel(engine):

    async def run():
        config = RequestConfig(max_tokens=200, temperature=0, stream=True)
        stream = await engine.infer_async(requests()[0], config)
        first = await stream.__anext__()
        await stream.aclose()  # client went away: the engine drops the request
        return first

    first = asyncio.run(run())
    assert first.choices[0].delta.role == 'assistant'
    assert texts(engine.infer(requests()[:1], GREEDY))[0]  # the engine still serves


def test_beam_search(engine):
    response = engine.infer(requests(PROMPTS[:1]), RequestConfig(max_tokens=6, num_beams=3, n=2))[0]
    assert len(response.choices) == 2
    assert response.usage.completion_tokens == sum(
        len(engine.tokenizer.encode(c.message.content, add_special_tokens=False)) for c in response.choices)


def test_invalid_request(engine):
    with pytest.raises(Exception, match='top_p'):
        engine.infer(requests()[:1], RequestConfig(top_p=2.))
    long = InferRequest([{'role': 'user', 'content': 'word ' * 3000}])
    with pytest.raises(Exception, match='max length'):
        engine.infer([long], GREEDY)
