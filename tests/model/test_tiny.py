import json
import os

import pytest
import torch

from swift.model import TINY_CONFIG, get_tiny_model_dir, load_tiny_tokenizer, make_model_dir
from swift.model.tiny import tiny_model_hash, tiny_model_name
from swift.utils import ModelError

SPECIAL = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|begin_of_text|>', '<|end_of_text|>',
           '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>']
TEXT = 'Hello, who are you? 你好，我是小黄，由魔搭训练的助手。 x = [1, 2, 3]  # 42\n\tdone'


@pytest.mark.parametrize('name', ['swift/tiny-qwen2', 'swift/tiny-llama'])
def test_tokenizer_round_trip_and_special_tokens(name):
    tok = load_tiny_tokenizer(name)
    ids = tok(TEXT, add_special_tokens=False)['input_ids']
    assert tok.decode(ids) == TEXT
    assert len(ids) < len(TEXT.encode())  # BPE merges really happened
    assert tok.decode(tok('Ünïcødé 🙂 ok', add_special_tokens=False)['input_ids']) == 'Ünïcødé 🙂 ok'
    for token in SPECIAL:
        assert tok(token, add_special_tokens=False)['input_ids'] == [tok.convert_tokens_to_ids(token)]
    assert 3000 <= len(tok) <= 4000


def test_family_special_tokens_and_chat_templates():
    qwen, llama = load_tiny_tokenizer('swift/tiny-qwen2'), load_tiny_tokenizer('swift/tiny-llama')
    assert (qwen.eos_token, qwen.pad_token, qwen.bos_token) == ('<|im_end|>', '<|endoftext|>', None)
    assert (llama.eos_token, llama.pad_token, llama.bos_token) == ('<|eot_id|>', '<|end_of_text|>',
                                                                   '<|begin_of_text|>')
    messages = [{'role': 'user', 'content': 'hi'}]
    assert qwen.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == (
        '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n'
        '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n')
    assert llama.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == (
        '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>'
        '<|start_header_id|>assistant<|end_header_id|>\n\n')
    assert llama('hi')['input_ids'][0] == llama.bos_token_id
    assert qwen('hi')['input_ids'] == qwen('hi', add_special_tokens=False)['input_ids']


def test_unknown_tiny_name():
    with pytest.raises(ModelError, match='tiny-qwen2'):
        load_tiny_tokenizer('swift/tiny-qwen')


def test_tiny_dir_is_deterministic(tmp_path, tiny_qwen2_dir):
    other = get_tiny_model_dir('swift/tiny-qwen2', cache_dir=str(tmp_path))
    assert os.path.basename(other) == os.path.basename(tiny_qwen2_dir)
    assert os.path.basename(other) == f'tiny-qwen2-{tiny_model_hash("swift/tiny-qwen2")}'
    for filename in ('model.safetensors', 'config.json', 'tokenizer.json', 'generation_config.json'):
        with open(os.path.join(other, filename), 'rb') as a, open(os.path.join(tiny_qwen2_dir, filename), 'rb') as b:
            assert a.read() == b.read(), filename
    assert get_tiny_model_dir('swift/tiny-qwen2', cache_dir=str(tmp_path)) == other  # reused
    leftovers = [p for p in os.listdir(os.path.dirname(other)) if p.startswith('.') and p != '.build.lock']
    assert leftovers == []  # no tmp dirs left (the builders' lock file stays)
    assert tiny_model_name(other) == 'swift/tiny-qwen2'
    assert tiny_model_name(str(tmp_path)) is None


def test_tiny_dir_contents(tiny_qwen2_dir):
    with open(os.path.join(tiny_qwen2_dir, 'config.json')) as f:
        config = json.load(f)
    assert config['architectures'] == ['Qwen2ForCausalLM']
    assert config['hidden_size'] == TINY_CONFIG['hidden_size'] and config['tie_word_embeddings'] is True
    assert os.path.isfile(os.path.join(tiny_qwen2_dir, 'chat_template.jinja'))
    with open(os.path.join(tiny_qwen2_dir, 'generation_config.json')) as f:
        assert len(json.load(f)['eos_token_id']) == 2


def test_make_model_dir_with_overrides(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    path = make_model_dir(str(tmp_path / 'm'), arch='llama', hidden_size=64, num_hidden_layers=2)
    model = AutoModelForCausalLM.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    assert model.config.hidden_size == 64 and model.config.num_hidden_layers == 2
    assert type(model).__name__ == 'LlamaForCausalLM'
    ids = tok('hello world', return_tensors='pt')['input_ids']
    loss = model(input_ids=ids, labels=ids).loss
    assert torch.isfinite(loss) and abs(loss.item() - torch.log(torch.tensor(len(tok))).item()) < 1.0
