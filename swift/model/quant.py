"""Load-time quantization configs (bnb / hqq / eetq); the backend package is needed only when chosen."""
import importlib.util
from typing import Optional, Union

import torch

from swift.utils import ModelError

# quant_method -> (python module that must be importable, pip package name)
_BACKENDS = {'bnb': ('bitsandbytes', 'bitsandbytes'), 'hqq': ('hqq', 'hqq'), 'eetq': ('eetq', 'eetq')}


def to_torch_dtype(dtype: Union[str, torch.dtype, None]) -> Optional[torch.dtype]:
    """'bf16' / 'bfloat16' / 'torch.float16' / torch.float32 -> torch dtype; None stays None."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    name = str(dtype).replace('torch.', '')
    name = {'bf16': 'bfloat16', 'fp16': 'float16', 'half': 'float16', 'fp32': 'float32', 'float': 'float32'}.get(
        name, name)
    value = getattr(torch, name, None)
    if not isinstance(value, torch.dtype):
        raise ModelError(f'Unknown torch_dtype {dtype!r}; use float32, bfloat16 or float16.')
    return value


def _require(quant_method: str) -> None:
    module, package = _BACKENDS[quant_method]
    if importlib.util.find_spec(module) is None:
        raise ModelError(f'quant_method={quant_method!r} needs the {package} package: pip install {package}')


def get_quantization_config(quant_method: Optional[str],
                            quant_bits: Optional[int] = None,
                            bnb_4bit_compute_dtype=None,
                            bnb_4bit_quant_type: str = 'nf4',
                            bnb_4bit_use_double_quant: bool = True,
                            bnb_4bit_quant_storage=None,
                            hqq_axis: Optional[int] = None,
                            torch_dtype=None):
    """A transformers quantization config for loading, or None when quant_method is None."""
    if quant_method is None:
        return None
    if quant_method not in _BACKENDS:
        raise ModelError(f'Unknown quant_method {quant_method!r} for loading; choose one of: bnb, hqq, eetq '
                         '(gptq/awq are for `swift export`).')
    _require(quant_method)
    import transformers
    if quant_method == 'bnb':
        if quant_bits not in (4, 8):
            raise ModelError(f'quant_method=bnb supports quant_bits 4 or 8, got {quant_bits!r}.')
        compute_dtype = to_torch_dtype(bnb_4bit_compute_dtype) or to_torch_dtype(torch_dtype) or torch.float32
        return transformers.BitsAndBytesConfig(
            load_in_4bit=quant_bits == 4, load_in_8bit=quant_bits == 8, bnb_4bit_compute_dtype=compute_dtype,
            bnb_4bit_quant_type=bnb_4bit_quant_type, bnb_4bit_use_double_quant=bnb_4bit_use_double_quant,
            bnb_4bit_quant_storage=to_torch_dtype(bnb_4bit_quant_storage))
    if quant_method == 'hqq':
        return transformers.HqqConfig(nbits=quant_bits or 4, axis=hqq_axis)
    if quant_bits not in (None, 8):
        raise ModelError(f'quant_method=eetq supports quant_bits 8 only, got {quant_bits!r}.')
    return transformers.EetqConfig('int8')
