"""MKL-packed decode weights (swift/infer/pt_linear.py) give exactly the stock Linear's outputs."""
import copy

import pytest
import torch

from swift.infer import PtEngine, RequestConfig
from swift.infer.pt_linear import can_pack, pack_linears, unpack_linears
from ._utils import PROMPTS, requests

pytestmark = pytest.mark.skipif(not torch.backends.mkl.is_available(), reason='needs an MKL build of torch')


@pytest.mark.parametrize('rows', [1, 3, 4])
def test_packed_linear_is_bit_identical(rows):
    torch.manual_seed(0)
    linear = torch.nn.Linear(16, 24)
    x = torch.randn(rows, 1, 16)
    want = linear(x)
    assert pack_linears(torch.nn.Sequential(linear), 4) == 1
    with torch.inference_mode():
        assert torch.equal(linear(x), want)  # 4 rows: the packed product; others: the fallback inside the op
    with torch.enable_grad():  # training through the module keeps autograd
        assert linear(x.requires_grad_()).requires_grad
    unpack_linears(linear)
    assert not hasattr(linear, '_swift_packed') and 'forward' not in vars(linear)


def test_not_packed_for_one_row_or_other_dtypes():
    assert pack_linears(torch.nn.Linear(4, 4), 1) == 0
    assert not can_pack(torch.nn.Linear(4, 4).to(torch.bfloat16))


def test_engine_that_owns_its_model_decodes_the_same(model_template):
    """A full batch (max_batch_size rows) runs on packed weights; tokens and logprobs equal the shared stock model's."""
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
