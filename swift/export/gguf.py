"""Write a (merged) llama / qwen2 model as one GGUF file for llama.cpp and Ollama, with the `gguf` package.

Weights are renamed to llama.cpp's tensor names; llama's q/k projections are permuted from the Hugging Face
rotate-half layout to llama.cpp's interleaved rotary layout (qwen2 uses the NeoX layout and needs no permute).
1-D tensors (norms, biases) stay f32; 2-D weights get --gguf_quant_type (f16 where a row does not fill a block).
"""
import os
from typing import Optional

import numpy as np
import torch

from swift.utils import ArgumentError, get_logger
from .gguf_vocab import add_tokenizer

logger = get_logger()
GGUF_FILE = 'model.gguf'
# transformers model_type -> gguf MODEL_ARCH member name
_ARCHS = {'llama': 'LLAMA', 'qwen2': 'QWEN2'}
_FILE_TYPES = {'f32': 'ALL_F32', 'f16': 'MOSTLY_F16', 'bf16': 'MOSTLY_BF16', 'q8_0': 'MOSTLY_Q8_0',
               'q5_1': 'MOSTLY_Q5_1', 'q5_0': 'MOSTLY_Q5_0', 'q4_1': 'MOSTLY_Q4_1', 'q4_0': 'MOSTLY_Q4_0'}


def _import_gguf():
    try:
        import gguf
    except ImportError:
        raise ArgumentError('--to_gguf needs the gguf package: pip install gguf') from None
    return gguf


def _rope_theta(config) -> float:
    params = getattr(config, 'rope_parameters', None) or {}
    theta = params.get('rope_theta', getattr(config, 'rope_theta', None))
    rope_type = params.get('rope_type', 'default')
    if rope_type != 'default':
        raise ArgumentError(f'GGUF export does not support rope scaling ({rope_type}) yet; export a model with '
                            'default RoPE.')
    return float(theta if theta is not None else 10000.0)


def _head_dim(config) -> int:
    return getattr(config, 'head_dim', None) or config.hidden_size // config.num_attention_heads


def _add_hparams(writer, config, name: str, file_type) -> None:
    writer.add_name(name)
    writer.add_context_length(config.max_position_embeddings)
    writer.add_embedding_length(config.hidden_size)
    writer.add_feed_forward_length(config.intermediate_size)
    writer.add_block_count(config.num_hidden_layers)
    writer.add_head_count(config.num_attention_heads)
    writer.add_head_count_kv(config.num_key_value_heads)
    writer.add_layer_norm_rms_eps(config.rms_norm_eps)
    writer.add_rope_freq_base(_rope_theta(config))
    writer.add_rope_dimension_count(_head_dim(config))
    writer.add_key_length(_head_dim(config))
    writer.add_value_length(_head_dim(config))
    writer.add_vocab_size(config.vocab_size)
    writer.add_file_type(file_type)


def permute_rotary(weight: torch.Tensor, n_head: int) -> torch.Tensor:
    """Rows of each head from [first halves | second halves] to interleaved pairs (llama.cpp's rope layout)."""
    return (weight.reshape(n_head, 2, weight.shape[0] // n_head // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def _convert(name: str, tensor: torch.Tensor, config) -> torch.Tensor:
    if config.model_type == 'llama' and name.endswith(('q_proj.weight', 'q_proj.bias')):
        return permute_rotary(tensor, config.num_attention_heads)
    if config.model_type == 'llama' and name.endswith(('k_proj.weight', 'k_proj.bias')):
        return permute_rotary(tensor, config.num_key_value_heads)
    return tensor


def encode_tensor(data: np.ndarray, quant_type: str):
    """(array to write, GGMLQuantizationType) for one float32 tensor."""
    import gguf
    qtype = gguf.GGMLQuantizationType
    if data.ndim == 1 or quant_type == 'f32':
        return data, qtype.F32
    if quant_type == 'f16':
        return data.astype(np.float16), qtype.F16
    target = getattr(qtype, quant_type.upper())
    block = gguf.GGML_QUANT_SIZES[target][0]
    if data.shape[-1] % block:
        return data.astype(np.float16), qtype.F16
    return gguf.quants.quantize(data, target), target


def _tensors(model, tensor_map):
    config = model.config
    for name, tensor in model.state_dict().items():
        if name == 'lm_head.weight' and config.tie_word_embeddings:
            continue  # llama.cpp reuses token_embd when output.weight is absent
        gguf_name = tensor_map.get_name(name, try_suffixes=('.weight', '.bias'))
        if gguf_name is None:
            raise ArgumentError(f'GGUF export: no llama.cpp name for tensor {name!r} of {config.model_type}.')
        yield gguf_name, _convert(name, tensor.detach().float().cpu(), config).numpy()


def check_gguf_support(config) -> None:
    if config.model_type not in _ARCHS:
        raise ArgumentError(f'--to_gguf supports model types {", ".join(_ARCHS)}; this model is '
                            f'{config.model_type!r}.')


@torch.no_grad()
def write_gguf(model, tokenizer, output_dir: str, quant_type: str = 'f16', name: Optional[str] = None,
               chat_template: Optional[str] = None) -> str:
    """Write output_dir/model.gguf and return its path."""
    gguf = _import_gguf()
    config = model.config
    check_gguf_support(config)
    arch = getattr(gguf.MODEL_ARCH, _ARCHS[config.model_type])
    path = os.path.join(output_dir, GGUF_FILE)
    os.makedirs(output_dir, exist_ok=True)
    writer = gguf.GGUFWriter(path, gguf.MODEL_ARCH_NAMES[arch])
    _add_hparams(writer, config, name or os.path.basename(os.path.normpath(output_dir)),
                 getattr(gguf.LlamaFileType, _FILE_TYPES[quant_type]))
    add_tokenizer(writer, tokenizer, config.vocab_size, chat_template, config_bos_id=config.bos_token_id)
    tensor_map = gguf.get_tensor_name_map(arch, config.num_hidden_layers)
    for gguf_name, data in _tensors(model, tensor_map):
        array, qtype = encode_tensor(data, quant_type)
        writer.add_tensor(gguf_name, array, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    logger.info(f'Wrote {path} ({quant_type}).')
    return path


def read_gguf_tensor(reader, name: str) -> np.ndarray:
    """A tensor of a GGUFReader as float32 in the torch (row-major, HF) shape; the inverse of the quantization."""
    import gguf
    tensor = next(t for t in reader.tensors if t.name == name)
    data = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
    return np.asarray(data, dtype=np.float32).reshape([int(d) for d in reversed(tensor.shape)])
