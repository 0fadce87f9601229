"""MKL-packed weights for the pt engine's decode steps on CPU.

A decode step multiplies every Linear weight by a [rows, in] activation with rows = the batch size. MKL's plain
sgemm repacks the weight into its panel layout on every such call; at a few dozen rows that repacking costs as much
as the multiply. `cblas_sgemm_pack` (torch.ops.mkl) packs each weight once for a fixed row count, and MKL then
multiplies by the packed copy. Calls with any other row count (prefill, a partly drained batch) fall back to the
ordinary linear inside the same op, and the packed product is bit-identical to F.linear, so outputs do not change.
"""
import types

import torch
from torch import nn

MAX_PACKED_BYTES = 2 << 30  # the packed copies double the Linear weights' memory: only for small models


def can_pack(model) -> bool:
    if not (torch.backends.mkl.is_available() and hasattr(torch.ops.mkl, '_mkl_linear')):
        return False
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    return bool(weights) and all(w.device.type == 'cpu' and w.dtype == torch.float32 for w in weights) and sum(
        w.numel() * w.element_size() for w in weights) <= MAX_PACKED_BYTES


def _packed_forward(self: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    if torch.is_grad_enabled():  # training through an engine's model: autograd needs the stock op
        return nn.Linear.forward(self, x)
    return torch.ops.mkl._mkl_linear(x, self._swift_packed, self.weight, self.bias, self._swift_rows)


def pack_linears(model, rows: int) -> int:
    """Pack every plain Linear of `model` for `rows`-row inputs; returns how many were packed (0 when MKL or the
    model does not allow it). Weights must not change afterwards (the engine never merges adapters in place)."""
    if rows < 2 or not can_pack(model):
        return 0
    count = 0
    with torch.no_grad():
        for module in model.modules():
            if type(module) is nn.Linear:  # noqa: E721 - subclasses (quantised, LoRA) keep their own forward
                module._swift_packed = torch.ops.mkl._mkl_reorder_linear_weight(module.weight.detach(), rows)
                module._swift_rows = rows
                module.forward = types.MethodType(_packed_forward, module)
                count += 1
    return count


def unpack_linears(model) -> None:
    """Back to the stock forward (before the weights change, e.g. an adapter merged in place)."""
    for module in model.modules():
        if hasattr(module, '_swift_packed'):
            del module._swift_packed, module._swift_rows, module.forward
