"""GGUF export: tensors, hyper-parameters and tokenizer read back with gguf.GGUFReader; llama.cpp when installed."""
import importlib.util

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM

from swift.export.gguf import permute_rotary, read_gguf_tensor, write_gguf
from swift.model import get_model_tokenizer
from swift.pipelines.export import export_main

gguf = pytest.importorskip('gguf')


def _field(reader, key):
    return reader.fields[key].contents()


@pytest.fixture(scope='module')
def tiny(request):
    return {name: get_model_tokenizer(name) for name in ('swift/tiny-qwen2', 'swift/tiny-llama')}


def _hf(tensor):
    return tensor.detach().float().numpy()


@pytest.mark.parametrize('quant_type, atol', [('f32', 0), ('f16', 1e-4), ('q8_0', 2e-3)])
def test_qwen2_tensors_read_back(tiny, tmp_path, quant_type, atol):
    model, tokenizer = tiny['swift/tiny-qwen2']
    reader = gguf.GGUFReader(write_gguf(model, tokenizer, str(tmp_path), quant_type))
    names = {t.name for t in reader.tensors}
    assert 'output.weight' not in names  # tied embeddings: llama.cpp reuses token_embd
    assert len(names) == len(model.state_dict()) - 1
    layer = model.model.layers[1]
    pairs = {'token_embd.weight': model.model.embed_tokens.weight, 'blk.1.attn_q.weight': layer.self_attn.q_proj.weight,
             'blk.1.attn_q.bias': layer.self_attn.q_proj.bias, 'blk.1.ffn_down.weight': layer.mlp.down_proj.weight,
             'output_norm.weight': model.model.norm.weight}
    for name, tensor in pairs.items():
        np.testing.assert_allclose(read_gguf_tensor(reader, name), _hf(tensor), atol=atol, rtol=0, err_msg=name)
    expected_type = {'f32': 'F32', 'f16': 'F16', 'q8_0': 'Q8_0'}[quant_type]
    assert next(t for t in reader.tensors if t.name == 'blk.1.attn_q.weight').tensor_type.name == expected_type
    assert next(t for t in reader.tensors if t.name == 'blk.1.attn_q.bias').tensor_type.name == 'F32'


def test_hparams_and_tokenizer(tiny, tmp_path):
    model, tokenizer = tiny['swift/tiny-qwen2']
    reader = gguf.GGUFReader(write_gguf(model, tokenizer, str(tmp_path), 'f16'))
    config = model.config
    assert _field(reader, 'general.architecture') == 'qwen2'
    assert _field(reader, 'qwen2.block_count') == config.num_hidden_layers
    assert _field(reader, 'qwen2.attention.head_count_kv') == config.num_key_value_heads
    assert _field(reader, 'qwen2.rope.freq_base') == pytest.approx(10000.0)
    tokens = _field(reader, 'tokenizer.ggml.tokens')
    assert len(tokens) == config.vocab_size and tokens[tokenizer.eos_token_id] == '<|im_end|>'
    assert _field(reader, 'tokenizer.ggml.model') == 'gpt2' and _field(reader, 'tokenizer.ggml.pre') == 'qwen2'
    assert _field(reader, 'tokenizer.ggml.eos_token_id') == tokenizer.eos_token_id
    assert _field(reader, 'tokenizer.ggml.add_bos_token') is False
    types = _field(reader, 'tokenizer.ggml.token_type')
    assert types[tokenizer.eos_token_id] == gguf.TokenType.CONTROL and types[100] == gguf.TokenType.NORMAL
    merges = _field(reader, 'tokenizer.ggml.merges')
    assert merges[0] == 'a n' and len(merges) > 1000
    assert _field(reader, 'tokenizer.chat_template') == tokenizer.chat_template


def test_llama_rotary_permutation(tiny, tmp_path):
    model, tokenizer = tiny['swift/tiny-llama']
    reader = gguf.GGUFReader(write_gguf(model, tokenizer, str(tmp_path), 'f32'))
    attn = model.model.layers[0].self_attn
    config = model.config
    q = permute_rotary(attn.q_proj.weight.detach(), config.num_attention_heads)
    k = permute_rotary(attn.k_proj.weight.detach(), config.num_key_value_heads)
    np.testing.assert_array_equal(read_gguf_tensor(reader, 'blk.0.attn_q.weight'), q.numpy())
    np.testing.assert_array_equal(read_gguf_tensor(reader, 'blk.0.attn_k.weight'), k.numpy())
    np.testing.assert_array_equal(read_gguf_tensor(reader, 'blk.0.attn_v.weight'), _hf(attn.v_proj.weight))
    assert _field(reader, 'tokenizer.ggml.pre') == 'qwen2'  # the tiny models share one tokenizer
    assert _field(reader, 'tokenizer.ggml.add_bos_token') is True  # Llama 3 prepends <|begin_of_text|>


def test_permute_rotary_pairs_halves():
    weight = torch.arange(8.).reshape(8, 1)  # one head of dim 8: halves [0..3] and [4..7]
    assert permute_rotary(weight, 1).flatten().tolist() == [0, 4, 1, 5, 2, 6, 3, 7]


def test_export_adapter_to_gguf_merges_in_memory(ckpt, tmp_path):
    out = tmp_path / 'gguf'
    result = export_main(['--adapters', ckpt, '--to_gguf', 'true', '--gguf_quant_type', 'f32',
                          '--output_dir', str(out)])
    assert sorted(p.name for p in out.iterdir()) == ['model.gguf']
    merged_dir = tmp_path / 'merged'
    export_main(['--adapters', ckpt, '--merge_lora', 'true', '--output_dir', str(merged_dir)])
    merged = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32)
    reader = gguf.GGUFReader(result['gguf'])
    np.testing.assert_array_equal(read_gguf_tensor(reader, 'blk.2.attn_v.weight'),
                                  _hf(merged.model.layers[2].self_attn.v_proj.weight))


@pytest.mark.skipif(importlib.util.find_spec('llama_cpp') is None, reason='llama-cpp-python is not installed')
@pytest.mark.parametrize('name', ['swift/tiny-qwen2', 'swift/tiny-llama'])
def test_llama_cpp_logits_match_torch(tiny, tmp_path, name):
    import llama_cpp
    model, tokenizer = tiny[name]
    path = write_gguf(model, tokenizer, str(tmp_path), 'f32')
    llm = llama_cpp.Llama(model_path=path, n_ctx=64, logits_all=True, verbose=False)
    ids = tokenizer('Hello there, how are you?', add_special_tokens=False)['input_ids']
    assert llm.tokenize('Hello there, how are you?'.encode(), add_bos=False, special=False) == ids
    llm.eval(ids)
    cpp = np.array(llm.scores[:len(ids)])
    with torch.no_grad():
        ref = model(input_ids=torch.tensor([ids])).logits[0].numpy()
    np.testing.assert_allclose(cpp, ref, atol=1e-3, rtol=0)
