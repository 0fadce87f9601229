"""The pt engine's slot cache, prefix cache and continuous batching give the same results as the plain paths."""
import queue

import pytest
import torch

from swift.infer import PtEngine, RequestConfig
from swift.infer.pt_batch import DecodeBatch
from swift.infer.pt_cache import SlotCache, merge
from swift.infer.pt_prefix import MIN_PREFIX, PrefixStore
from ._utils import PROMPTS, requests

MORE = PROMPTS + ['Name three colors.', 'Why is the sky blue? Explain briefly.', 'count to five', 'ok']


def run_jobs(engine, configs, prompts=MORE):
    """Queue one job per (prompt, config) at once, as concurrent clients would; returns (texts, tokens)."""
    sinks = [queue.Queue() for _ in prompts]
    jobs = [engine._job(r, c, None, s.put) for r, c, s in zip(requests(prompts), configs, sinks)]
    engine._submit(jobs)
    responses = [s.get(timeout=60) for s in sinks]
    return [r.choices[0].message.content for r in responses], [[c.tokens for c in j.choices] for j in jobs]


def test_joins_equal_one_by_one(model_template, monkeypatch):
    model, template = model_template
    engine = PtEngine.from_model_template(model, template, max_batch_size=3)
    runs = []
    original = engine._run
    monkeypatch.setattr(engine, '_run', lambda jobs: (runs.append(len(jobs)), original(jobs)))
    # different lengths finish at different steps, so waiting requests join the running batch
    configs = [RequestConfig(max_tokens=2 + 5 * (i % 3), temperature=0, repetition_penalty=1.3) for i in
               range(len(MORE))]
    joined, tokens = run_jobs(engine, configs)
    assert runs == [3]  # one batch served all 8 requests
    single = [run_jobs(engine, [c], [p])[0][0] for c, p in zip(configs, MORE)]
    assert joined == single
    assert [len(t[0]) for t in tokens] == [c.max_tokens for c in configs]


def _decode(engine, prompts, config, dynamic=False, prefixes=None):
    jobs = [engine._job(r, config, None, lambda item: None) for r in requests(prompts)]
    choices = [c for job in jobs for c in job.choices]
    batch = DecodeBatch(engine.model, choices, engine.tokenizer.pad_token_id, lambda active: None,
                        prefixes=prefixes)
    with torch.inference_mode():
        batch._run_dynamic() if dynamic else batch.run()
    return choices


@pytest.fixture(scope='module')
def eager_engine():
    return PtEngine('swift/tiny-qwen2', attn_impl='eager')


@pytest.mark.parametrize('name', ['engine', 'eager_engine'])
def test_slot_cache_and_prefix_equal_dynamic(name, request):
    engine = request.getfixturevalue(name)
    config = RequestConfig(max_tokens=10, temperature=0, logprobs=True, top_logprobs=2)
    dynamic = _decode(engine, PROMPTS, config, dynamic=True)
    prefixes = PrefixStore()
    for store in (None, prefixes, prefixes):  # no prefix, learning it, reusing it
        slots = _decode(engine, PROMPTS, config, prefixes=store)
        assert [c.tokens for c in slots] == [c.tokens for c in dynamic]
        for a, b in zip(slots, dynamic):
            assert [e['logprob'] for e in a.logprobs] == pytest.approx([e['logprob'] for e in b.logprobs], abs=1e-4)
    assert len(prefixes.entries) == 1


def test_prefix_store_matches_by_adapter(engine):
    store = PrefixStore()
    prompt = [engine._job(r, None, None, None).input_ids for r in requests(PROMPTS[:2])]
    p, kv = store.lookup(engine.model, None, prompt)
    shared = next(i for i, (x, y) in enumerate(zip(*prompt)) if x != y)
    assert p == shared >= MIN_PREFIX
    assert kv[0][0].shape[2] == p
    assert store.lookup(engine.model, None, prompt[:1])[0] == p  # found again for a single prompt
    assert store.lookup(engine.model, 'other', [[1, 2, 3]]) is None


def test_slot_cache_merge_aligns_right_and_select_trims():
    def filled(rows, length, value):
        cache = SlotCache(1, rows, length + 2, 'cpu')
        cache.allocate(0, torch.zeros(rows, 1, 1, 2), torch.zeros(rows, 1, 1, 2))
        cache.keys[0][:, :, :length] = value
        cache.valid[:, :length] = True
        cache.length = length
        return cache

    merged = merge(filled(1, 2, 1.), filled(2, 4, 2.))
    assert merged.length == 4 and merged.rows == 3
    assert merged.valid.tolist()[0][:4] == [False, False, True, True]
    assert merged.keys[0][0, 0, 2:4, 0].tolist() == [1., 1.]
    merged.select(torch.tensor([0]))  # only the short row is left: its two unused leading columns go
    assert merged.length == 2 and merged.valid[0, :2].all()
    assert merged.keys[0][0, 0, :2, 0].tolist() == [1., 1.]
    merged.reserve(merged.capacity)  # growing keeps the contents
    assert merged.capacity >= 2 + 2 and merged.keys[0][0, 0, :2, 0].tolist() == [1., 1.]


def test_prefill_groups_fill_one_cache(engine, monkeypatch):
    """Prompts prefilled in several groups, each into its rows of one batch cache, decode as the dynamic path."""
    import swift.infer.pt_batch as pt_batch
    monkeypatch.setattr(pt_batch, 'PREFILL_GROUP', 3)
    config = RequestConfig(max_tokens=8, temperature=0, logprobs=True)
    dynamic = _decode(engine, MORE, config, dynamic=True)
    grouped = _decode(engine, MORE, config, prefixes=PrefixStore())
    assert [c.tokens for c in grouped] == [c.tokens for c in dynamic]
    for a, b in zip(grouped, dynamic):
        assert [e['logprob'] for e in a.logprobs] == pytest.approx([e['logprob'] for e in b.logprobs], abs=1e-4)


def test_slot_cache_rows_view_writes_into_parent():
    parent = SlotCache(1, 4, 6, 'cpu')
    view = parent.rows_view(1, 3)
    view.allocate(0, torch.zeros(2, 1, 1, 2), torch.zeros(2, 1, 1, 2))  # allocates the parent's 4 rows
    assert parent.keys[0].shape == (4, 1, 6, 2)
    view.keys[0][:, :, 0] = 5.
    view.valid[:, 0] = True
    assert parent.keys[0][:, 0, 0, 0].tolist() == [0., 5., 5., 0.]
    assert parent.valid[:, 0].tolist() == [False, True, True, False]
