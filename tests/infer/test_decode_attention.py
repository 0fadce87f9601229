"""The pt engine's decode attention gives SDPA's results: as a function, and end to end through an engine."""
import pytest
import torch
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from swift.infer import PtEngine, RequestConfig
from swift.infer.pt_attention import NAME, decode_sdpa_forward, use_decode_attention
from ._utils import requests


class _Module(torch.nn.Module):

    def __init__(self, groups: int):
        super().__init__()
        self.num_key_value_groups, self.is_causal, self.training = groups, True, False


def _masks(batch: int, length: int):
    valid = torch.ones(batch, 1, 1, length, dtype=torch.bool)
    valid[0, ..., :3] = False  # a left-padded row
    additive = torch.zeros(batch, 1, 1, length).masked_fill_(~valid, torch.finfo(torch.float32).min)
    return {'none': None, 'bool': valid, 'additive': additive}


@pytest.mark.parametrize('heads,kv_heads', [(8, 4), (4, 4), (6, 1)])
@pytest.mark.parametrize('mask', ['none', 'bool', 'additive'])
def test_single_token_matches_sdpa(heads, kv_heads, mask):
    torch.manual_seed(0)
    batch, length, dim = 3, 11, 16
    query = torch.randn(batch, heads, 1, dim)
    key, value = torch.randn(batch, kv_heads, length, dim), torch.randn(batch, kv_heads, length, dim)
    module, attention_mask = _Module(heads // kv_heads), _masks(batch, length)[mask]
    ours, _ = decode_sdpa_forward(module, query, key, value, attention_mask, scaling=0.3)
    ref, _ = sdpa_attention_forward(module, query, key, value, attention_mask, scaling=0.3)
    assert ours.shape == ref.shape == (batch, 1, heads, dim)
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)


def test_prefill_is_stock_sdpa():
    torch.manual_seed(0)
    query, key, value = torch.randn(2, 4, 5, 8), torch.randn(2, 2, 5, 8), torch.randn(2, 2, 5, 8)
    ours, _ = decode_sdpa_forward(_Module(2), query, key, value, None)
    ref, _ = sdpa_attention_forward(_Module(2), query, key, value, None)
    assert torch.equal(ours, ref)


def test_engine_owning_its_model_decodes_like_stock_sdpa(model_template):
    """A PtEngine that loads its model switches it to the fast path; its tokens and logprobs equal those of an
    engine over a stock-SDPA model (the shared fixture model is left alone)."""
    model, template = model_template
    fast = PtEngine('swift/tiny-qwen2', 'float32', max_batch_size=8)
    assert fast.model.config._attn_implementation == NAME
    assert model.config._attn_implementation == 'sdpa'
    stock = PtEngine.from_model_template(model, template, max_batch_size=8)
    config = RequestConfig(max_tokens=10, temperature=0, logprobs=True, top_logprobs=2)
    got, want = fast.infer(requests(), config), stock.infer(requests(), config)
    assert [r.choices[0].message.content for r in got] == [r.choices[0].message.content for r in want]
    for a, b in zip(got, want):
        lp_a = [t['logprob'] for t in a.choices[0].logprobs['content']]
        lp_b = [t['logprob'] for t in b.choices[0].logprobs['content']]
        assert lp_a == pytest.approx(lp_b, abs=1e-4)


def test_other_attention_left_alone():
    from swift.model import get_model_tokenizer
    model, _ = get_model_tokenizer('swift/tiny-qwen2', 'float32', attn_impl='eager')
    assert not use_decode_attention(model)
    assert model.config._attn_implementation == 'eager'
