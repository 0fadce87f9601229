"""oneDNN-packed weights for the pt engine's Linear layers on CPU.

torch's fp32 Linear goes to MKL's sgemm, which repacks the weight on every call and, on AMD CPUs, does not use its
AVX-512 kernels: on the 2-core EPYC this project is built on, the ~25M-parameter benchmark model's Linear GEMMs at
32 rows take 21 ms with MKL and 9.4 ms with oneDNN on weights packed once (6.5 vs 3.6 ms for one row, 190 vs 74 ms
for a 360-token prefill). So an engine that owns its model packs every plain Linear once, for `rows`-row inputs
(any other row count still runs, on the same packed weight), and multiplies through oneDNN in inference mode.

The products are not bit-identical to MKL's (float sums in another order: ~1e-6 relative), but each row's result
does not depend on the other rows of the batch, so batched and one-at-a-time decoding stay token-identical.
"""
import functools
import types

import torch
from torch import nn

MAX_PACKED_BYTES = 2 << 30  # the packed copies double the Linear weights' memory: only for small models


@functools.lru_cache(maxsize=None)
def _onednn_works() -> bool:
    """The ops are private to torch: check once that this build has them with the signature used here."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        w = torch.ones(2, 2)
        out = torch.ops.mkldnn._linear_pointwise(torch.ones(1, 2), torch.ops.mkldnn._reorder_linear_weight(w, 1),
                                                 None, 'none', [], '')
        return torch.equal(out, torch.full((1, 2), 2.0))
    except (AttributeError, RuntimeError, TypeError):
        return False


def can_pack(model) -> bool:
    if not _onednn_works():
        return False
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    return bool(weights) and all(w.device.type == 'cpu' and w.dtype == torch.float32 for w in weights) and sum(
        w.numel() * w.element_size() for w in weights) <= MAX_PACKED_BYTES


def _packed_forward(self: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    if torch.is_grad_enabled():  # training through an engine's model: autograd needs the stock op
        return nn.Linear.forward(self, x)
    return torch.ops.mkldnn._linear_pointwise(x, self._swift_packed, self.bias, 'none', [], '')


def pack_linears(model, rows: int) -> int:
    """Pack every plain Linear of `model` (blocked for `rows`-row inputs); returns how many were packed (0 when
    oneDNN or the model does not allow it). Weights must not change afterwards (the engine never merges adapters
    in place)."""
    if not can_pack(model):
        return 0
    count = 0
    with torch.no_grad():
        for module in model.modules():
            if type(module) is nn.Linear:  # noqa: E721 - subclasses (quantised, LoRA) keep their own forward
                module._swift_packed = torch.ops.mkldnn._reorder_linear_weight(module.weight.detach(), max(rows, 1))
                module.forward = types.MethodType(_packed_forward, module)
                count += 1
    return count


def unpack_linears(model) -> None:
    """Back to the stock forward (before the weights change, e.g. an adapter merged in place)."""
    for module in model.modules():
        if hasattr(module, '_swift_packed'):
            del module._swift_packed, module.forward
