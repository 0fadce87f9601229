"""oneDNN-packed weights (swift/infer/pt_linear.py): the stock Linear's outputs up to float reordering, each row
independent of the rest of the batch, and the same tokens as the stock model through the engine."""
import copy

import pytest
import torch

from swift.infer import PtEngine, RequestConfig
from swift.infer.pt_linear import can_pack, pack_linears, unpack_linears
from ._utils import PROMPTS, requests

pytestmark = pytest.mark.skipif(not can_pack(torch.nn.Linear(2, 2)), reason='needs a oneDNN build of torch')


@pytest.mark.parametrize('rows', [1, 3, 4, 37])
def test_packed_linear_matches_stock_and_rows_do_not_depend_on_the_batch(rows):
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 96)
    x = torch.randn(rows, 1, 64)
    want = linear(x)
    assert pack_linears(torch.nn.Sequential(linear), 4) == 1
    with torch.inference_mode():
        got = linear(x)
        assert got.shape == want.shape and torch.allclose(got, want, rtol=1e-5, atol=1e-5)
        assert torch.equal(linear(x[-1:]), got[-1:])  # a row alone = the same row in a batch: tokens stay put
    with torch.enable_grad():  # training through the module keeps autograd
        assert linear(x.requires_grad_()).requires_grad
    unpack_linears(linear)
    assert not hasattr(linear, '_swift_packed') and 'forward' not in vars(linear)


def test_not_packed_for_other_dtypes():
    assert not can_pack(torch.nn.Linear(4, 4).to(torch.bfloat16))


def test_engine_that_owns_its_model_decodes_the_same(model_template):
    """The engine's model runs on packed weights; tokens and logprobs equal the shared stock model's."""
    model, template = model_template
    owned = PtEngine.from_model_template(copy.deepcopy(model), template, max_batch_size=len(PROMPTS),
                                         owns_model=True)
    assert hasattr(owned.model.lm_head, '_swift_packed')
    assert not hasattr(model.lm_head, '_swift_packed')  # the shared model is left alone
    stock = PtEngine.from_model_template(model, template, max_batch_size=len(PROMPTS))
    config = RequestConfig(max_tokens=12, temperature=0, logprobs=True, top_logprobs=2)
    got, want = owned.infer(requests(), config), stock.infer(requests(), config)
    assert [r.choices[0].message.content for r in got] == [r.choices[0].message.content for r in want]
    for a, b in zip(got, want):
        assert [t['logprob'] for t in a.choices[0].logprobs['content']] == pytest.approx(
            [t['logprob'] for t in b.choices[0].logprobs['content']], abs=1e-4)


def test_packed_engine_batch_equals_one_by_one(model_template):
    model, template = model_template
    owned = PtEngine.from_model_template(copy.deepcopy(model), template, max_batch_size=len(PROMPTS),
                                         owns_model=True)
    config = RequestConfig(max_tokens=12, temperature=0, logprobs=True)
    batched = owned.infer(requests(), config)
    single = [owned.infer([r], config)[0] for r in requests()]
    assert [r.choices[0].message.content for r in batched] == [r.choices[0].message.content for r in single]
    for a, b in zip(batched, single):  # padding and attention over other lengths move the last bits only
        assert [t['logprob'] for t in a.choices[0].logprobs['content']] == pytest.approx(
            [t['logprob'] for t in b.choices[0].logprobs['content']], abs=1e-5)
