import json
import os
import socket
import time

import pytest
import torch

from swift.model import (MODEL_MAPPING, Model, ModelGroup, ModelMeta, get_matched_model_meta, get_model_info_meta,
                         get_model_tokenizer, get_model_tokenizer_with_flash_attn, register_model)
from swift.utils import ModelError


def _logits(model, tok, texts=('hello world, 你好',)):
    batch = tok(list(texts), return_tensors='pt', padding=True)
    with torch.no_grad():
        return model(**batch).logits


@pytest.mark.parametrize('name,model_type,template', [('swift/tiny-qwen2', 'tiny_qwen2', 'qwen2_5'),
                                                      ('swift/tiny-llama', 'tiny_llama', 'llama3')])
def test_load_tiny_and_forward(name, model_type, template):
    model, tok = get_model_tokenizer(name)
    for obj in (model, tok):
        assert obj.model_info.model_type == model_type and obj.model_meta.template == template
    assert model.dtype == torch.float32 and model.model_info.max_model_len == 2048
    assert model.model_info.task_type == 'causal_lm'
    assert _logits(model, tok).shape[-1] == model.config.vocab_size
    assert model.generation_config.pad_token_id == tok.pad_token_id


def test_model_type_by_suffix(copy_model_dir):
    assert get_matched_model_meta('Qwen/Qwen2.5-7B-Instruct').model_type == 'qwen2_5'
    assert get_matched_model_meta('qwen/QWEN3-8b').model_type == 'qwen3'
    assert get_matched_model_meta('meta-llama/Llama-3.1-8B-Instruct').model_type == 'llama3_1'
    assert get_matched_model_meta('LLM-Research/Meta-Llama-3.1-8B-Instruct').model_type == 'llama3_1'
    assert get_matched_model_meta('deepseek-ai/DeepSeek-R1-Distill-Qwen-7B').template == 'deepseek_r1'
    assert get_matched_model_meta('nobody/unknown-model') is None
    info, meta = get_model_info_meta(copy_model_dir('Qwen2.5-0.5B-Instruct/'))
    assert info.model_type == 'qwen2_5' and meta.template == 'qwen2_5'


def test_model_type_by_architectures(copy_model_dir):
    info, _ = get_model_info_meta(copy_model_dir('my-model'))
    assert info.model_type == 'qwen2'  # several metas list Qwen2ForCausalLM: config.model_type decides
    path = copy_model_dir('other-model')
    config_file = os.path.join(path, 'config.json')
    with open(config_file) as f:
        config = json.load(f)
    with open(config_file, 'w') as f:
        json.dump({**config, 'architectures': ['Gemma2ForCausalLM']}, f)
    assert get_model_info_meta(path)[0].model_type == 'gemma2'
    with open(config_file, 'w') as f:
        json.dump({**config, 'architectures': ['FooForCausalLM']}, f)
    info, meta = get_model_info_meta(path)  # unregistered: generic loader, no template
    assert info.model_type is None and meta.template is None


def test_explicit_model_type_and_unknown_suggests():
    _, tok = get_model_tokenizer('swift/tiny-qwen2', model_type='qwen2_5', load_model=False)
    assert tok.model_meta.template == 'qwen2_5'
    with pytest.raises(ModelError) as e:
        get_model_tokenizer('swift/tiny-qwen2', model_type='qwen2.5', load_model=False)
    assert 'qwen2_5' in str(e.value) and '\n' not in str(e.value)


def test_seq_cls_with_num_labels():
    model, tok = get_model_tokenizer('swift/tiny-qwen2', num_labels=3)
    assert type(model).__name__ == 'Qwen2ForSequenceClassification'
    assert model.model_info.task_type == 'seq_cls' and model.config.pad_token_id == tok.pad_token_id
    assert _logits(model, tok, ['short', 'a much longer sentence here']).shape == (2, 3)
    with pytest.raises(ModelError, match='num_labels'):
        get_model_tokenizer('swift/tiny-qwen2', task_type='seq_cls', load_model=False)


@pytest.mark.parametrize('dtype', ['bfloat16', torch.float16, 'fp32'])
def test_torch_dtype_honoured(dtype):
    model, _ = get_model_tokenizer('swift/tiny-llama', torch_dtype=dtype)
    expected = {'bfloat16': torch.bfloat16, 'fp32': torch.float32}.get(dtype, dtype)
    assert model.dtype == expected and model.model_info.torch_dtype == expected
    with pytest.raises(ModelError, match='torch_dtype'):
        get_model_tokenizer('swift/tiny-llama', torch_dtype='float99', load_model=False)


def test_rope_scaling():
    model, tok = get_model_tokenizer('swift/tiny-qwen2', rope_scaling='linear', max_length=4096)
    assert model.model_info.rope_scaling == {'rope_type': 'linear', 'factor': 2.0}
    assert model.model_info.max_model_len == 4096
    assert model.config.rope_parameters['rope_type'] == 'linear'
    assert model.config.rope_parameters['rope_theta'] == 10000.0  # kept from the config
    plain, _ = get_model_tokenizer('swift/tiny-qwen2')
    assert not torch.allclose(_logits(model, tok), _logits(plain, tok))
    with pytest.raises(ModelError, match='max_length'):
        get_model_tokenizer('swift/tiny-qwen2', rope_scaling='dynamic', load_model=False)
    info, _ = get_model_info_meta('swift/tiny-qwen2', rope_scaling='{"rope_type": "dynamic", "factor": 4.0}')
    assert info.rope_scaling == {'rope_type': 'dynamic', 'factor': 4.0} and info.max_model_len == 8192


def test_attn_impl_eager_matches_sdpa():
    eager, tok = get_model_tokenizer('swift/tiny-llama', attn_impl='eager')
    sdpa, _ = get_model_tokenizer('swift/tiny-llama', attn_impl='sdpa')
    assert eager.config._attn_implementation == 'eager' and sdpa.config._attn_implementation == 'sdpa'
    texts = ['one two three', 'a longer batch row with padding on the other']
    assert torch.allclose(_logits(eager, tok, texts), _logits(sdpa, tok, texts), atol=1e-5)
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match='flash'):
            get_model_tokenizer('swift/tiny-llama', attn_impl='flash_attn')


def test_device_map_and_max_memory_json(tmp_path):
    from swift.model.loader import parse_json_arg
    path = tmp_path / 'device_map.json'
    path.write_text('{"0": "20GB", "cpu": "1GB"}')
    assert parse_json_arg(str(path), 'max_memory') == {0: '20GB', 'cpu': '1GB'}
    assert parse_json_arg('auto', 'device_map') == 'auto'
    with pytest.raises(ModelError, match='device_map is not valid JSON'):
        parse_json_arg('{"": cpu}', 'device_map')
    model, _ = get_model_tokenizer('swift/tiny-qwen2', device_map='{"": "cpu"}', max_memory='{"cpu": "1GB"}')
    assert model.device.type == 'cpu'


@pytest.mark.parametrize('path', ['./no/such/model', '/no/such/model', '~/no-such-model-dir', 'a/b/c'])
def test_missing_local_path_is_one_line_error(path):
    with pytest.raises(ModelError) as e:
        get_model_tokenizer(path, load_model=False)
    assert 'does not exist' in str(e.value) and '\n' not in str(e.value)


def test_dir_without_config(tmp_path):
    with pytest.raises(ModelError, match='config.json'):
        get_model_tokenizer(str(tmp_path), load_model=False)


def test_unreachable_hub_fails_fast(tmp_path, monkeypatch):
    from swift.utils import hub_reachable
    if hub_reachable(False) or hub_reachable(True):
        pytest.skip('a model hub is reachable from this machine')
    monkeypatch.setenv('MODELSCOPE_CACHE', str(tmp_path))
    for use_hf in (False, True):
        start = time.time()
        with pytest.raises(ModelError) as e:
            get_model_tokenizer('Qwen/Qwen2.5-0.5B-Instruct', use_hf=use_hf)
        message = str(e.value)
        assert time.time() - start < 10
        assert 'Qwen/Qwen2.5-0.5B-Instruct' in message and 'local model directory' in message
        assert 'ModelScope' in message and 'Hugging Face' in message and '\n' not in message


def test_local_loads_never_touch_the_network(monkeypatch, tiny_qwen2_dir):
    def refuse(*args, **kwargs):
        raise AssertionError('network access attempted')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)
    monkeypatch.setattr(socket, 'getaddrinfo', refuse)
    model, _ = get_model_tokenizer(tiny_qwen2_dir)
    assert model.model_info.model_type == 'tiny_qwen2'
    get_model_tokenizer('swift/tiny-llama', load_model=False)


def test_register_duplicate_and_custom_model(tiny_qwen2_dir):
    with pytest.raises(ModelError, match='already registered'):
        register_model(MODEL_MAPPING['tiny_qwen2'])
    meta = ModelMeta('test_custom_tiny', [ModelGroup([Model('me/custom-tiny')])], 'qwen2_5',
                     get_model_tokenizer_with_flash_attn, architectures=['Qwen2ForCausalLM'])
    register_model(meta)
    try:
        assert register_model(meta, exist_ok=True) is meta
        model, tok = get_model_tokenizer(tiny_qwen2_dir, model_type='test_custom_tiny')
        assert model.model_meta is meta and tok.model_info.model_type == 'test_custom_tiny'
    finally:
        MODEL_MAPPING._items.pop('test_custom_tiny')


def test_bnb_quantization():
    import importlib.util
    from swift.model import get_quantization_config
    if importlib.util.find_spec('bitsandbytes') is None:
        with pytest.raises(ModelError, match='pip install bitsandbytes'):
            get_quantization_config('bnb', 4)
        return
    config = get_quantization_config('bnb', 4, torch_dtype='float32')
    model, tok = get_model_tokenizer('swift/tiny-qwen2', quantization_config=config)
    assert model.model_info.quant_method == 'bnb' and model.model_info.quant_bits == 4
    assert torch.isfinite(_logits(model, tok)).all()


def test_quantization_config_errors():
    from swift.model import get_quantization_config
    assert get_quantization_config(None) is None
    with pytest.raises(ModelError, match='gptq'):
        get_quantization_config('gptq', 4)


def test_every_registered_template_exists():
    template = pytest.importorskip('swift.template')
    missing = {meta.model_type: meta.template for meta in MODEL_MAPPING.values()
               if meta.template not in template.TEMPLATE_MAPPING}
    assert missing == {}
