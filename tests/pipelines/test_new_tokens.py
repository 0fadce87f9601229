"""New special tokens: added, initialised, trained with LoRA (embeddings as modules_to_save), saved with the
tokenizer in every checkpoint, reloaded by `swift infer --adapters` with identical logits, merged and written to
GGUF with the new vocabulary."""
import json
import os

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from swift.model import get_model_tokenizer
from swift.model.new_tokens import add_new_tokens, init_new_embeddings, read_new_tokens
from swift.utils import ArgumentError

NEW = ['<tool_x>', '<tool_y>', '<think_z>']


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    from swift.pipelines.sft import sft_main
    tmp = tmp_path_factory.mktemp('tok')
    (tmp / 'tokens.txt').write_text('<tool_x>\n<tool_y>\n')
    (tmp / 'tokens.yaml').write_text("'<think_z>': the start of careful reasoning\n")
    rows = [{'messages': [{'role': 'user', 'content': f'call tool {i}'},
                          {'role': 'assistant', 'content': f'<tool_x>{i}<tool_y> <think_z>done'}]} for i in range(8)]
    (tmp / 'd.jsonl').write_text('\n'.join(json.dumps(r) for r in rows))
    result = sft_main(['--model', 'swift/tiny-qwen2', '--dataset', str(tmp / 'd.jsonl'), '--output_dir',
                       str(tmp / 'out'), '--add_version', 'false', '--report_to', 'none', '--split_dataset_ratio', '0',
                       '--new_special_tokens', str(tmp / 'tokens.txt'), '--new_special_tokens_config',
                       str(tmp / 'tokens.yaml'), '--init_special_tokens', 'desc_init', '--max_steps', '4',
                       '--save_steps', '2', '--learning_rate', '5e-2', '--plot_loss', 'false',
                       '--gradient_checkpointing', 'false', '--per_device_train_batch_size', '2'])
    return result, tmp


def _ids(tokenizer):
    return torch.tensor([[5, 17, *tokenizer.convert_tokens_to_ids(NEW), 42, 7]])


@torch.no_grad()
def _logits(model, ids):
    return model.eval()(input_ids=ids).logits


def test_every_checkpoint_carries_the_tokens_and_the_trained_rows(run):
    result, tmp = run
    ckpts = sorted(d for d in os.listdir(tmp / 'out') if d.startswith('checkpoint-'))
    assert ckpts == ['checkpoint-2', 'checkpoint-4']
    for ckpt in ckpts:
        tokenizer = AutoTokenizer.from_pretrained(tmp / 'out' / ckpt)
        assert len(tokenizer) == 3749 and tokenizer.convert_tokens_to_ids(NEW) == [3746, 3747, 3748]
    with open(tmp / 'out' / 'checkpoint-4' / 'args.json') as f:
        assert json.load(f)['new_special_tokens'] == NEW  # the .txt and YAML tokens, resolved
    with open(tmp / 'out' / 'checkpoint-4' / 'adapter_config.json') as f:
        config = json.load(f)
    # tied embeddings: peft keeps one trained copy (embed_tokens) that also serves as the lm_head
    assert any(m.endswith('embed_tokens') for m in config['modules_to_save']) and config['ensure_weight_tying']
    assert {3746, 3747, 3748} <= set(result['trainer'].train_dataset[0]['input_ids'])  # one id per new token
    trained = result['trainer'].model.get_input_embeddings().weight
    assert trained.shape[0] == 3749
    base, _ = get_model_tokenizer('swift/tiny-qwen2')
    assert (trained[:3746] - base.get_input_embeddings().weight).abs().max() > 0  # embeddings trained in full


def test_infer_adapters_rebuilds_the_vocabulary_with_identical_logits(run):
    from swift.arguments import InferArguments, parse_args
    from swift.pipelines.infer import build_engine
    result, tmp = run
    ckpt = result['last_model_checkpoint']
    trained = result['trainer'].model
    ids = _ids(AutoTokenizer.from_pretrained(ckpt))
    args = parse_args(InferArguments, ['--adapters', ckpt])
    args.validate()
    args.resolve()
    assert args.new_special_tokens == NEW  # from the adapter's args.json
    engine = build_engine(args)
    torch.testing.assert_close(_logits(engine.model, ids), _logits(trained, ids), atol=1e-5, rtol=0)


def test_merged_model_has_the_new_vocabulary_and_gguf_lists_it(run, tmp_path):
    import gguf
    from swift.pipelines.export import export_main
    result, _ = run
    ckpt = result['last_model_checkpoint']
    out = tmp_path / 'merged'
    export_main(['--adapters', ckpt, '--merge_lora', 'true', '--output_dir', str(out)])
    merged, tokenizer = AutoModelForCausalLM.from_pretrained(out), AutoTokenizer.from_pretrained(out)
    assert merged.config.vocab_size == len(tokenizer) == 3749
    ids = _ids(tokenizer)
    torch.testing.assert_close(_logits(merged, ids), _logits(result['trainer'].model, ids), atol=1e-4, rtol=0)
    path = export_main(['--adapters', ckpt, '--to_gguf', 'true', '--output_dir', str(tmp_path / 'gguf')])['gguf']
    reader = gguf.GGUFReader(path)
    tokens = reader.fields['tokenizer.ggml.tokens'].contents()
    types = reader.fields['tokenizer.ggml.token_type'].contents()
    assert len(tokens) == 3749 and tokens[3746:] == NEW
    assert all(types[i] == gguf.TokenType.CONTROL for i in range(3746, 3749))


def test_description_init_is_the_mean_of_the_description_embeddings():
    model, tokenizer = get_model_tokenizer('swift/tiny-qwen2')
    ids = add_new_tokens(model, tokenizer, ['<a>', '<b>'])
    assert ids == [3746, 3747] and model.get_input_embeddings().weight.shape[0] == 3748
    weight = model.get_input_embeddings().weight
    init_new_embeddings(model, tokenizer, ids, 'desc_init', {'<a>': 'hello world'})
    desc = tokenizer('hello world', add_special_tokens=False)['input_ids']
    torch.testing.assert_close(weight[3746], weight[desc].mean(0))
    torch.testing.assert_close(weight[3747], weight[:3746].mean(0))  # no description: the mean of all rows
    init_new_embeddings(model, tokenizer, ids, 'noise_init')
    assert 0 < (weight[3746] - weight[:3746].mean(0)).norm() < 3  # mean + N(0, 1/d) noise
    assert add_new_tokens(model, tokenizer, ['<a>']) == []  # adding again changes nothing
    assert model.get_input_embeddings().weight.shape[0] == 3748


def test_token_lists_and_refusals(tmp_path):
    from swift.arguments import SftArguments, parse_args
    (tmp_path / 't.txt').write_text('<p>\n\n<q>\n')
    assert read_new_tokens([str(tmp_path / 't.txt'), '<r>,<p>', '<s>']) == ['<p>', '<q>', '<r>', '<s>']
    for argv, match in ((['--init_special_tokens', 'desc_init'], 'add --new_special_tokens_config'),
                        (['--new_special_tokens', '<x>', '--train_type', 'reft'], 'cannot train them')):
        args = parse_args(SftArguments, ['--model', 'swift/tiny-qwen2', *argv])
        with pytest.raises(ArgumentError, match=match):
            args.validate()


def test_full_training_saves_the_grown_model(tmp_path):
    from swift.pipelines.sft import sft_main
    data = tmp_path / 'd.jsonl'
    data.write_text(json.dumps({'messages': [{'role': 'user', 'content': 'hi'},
                                             {'role': 'assistant', 'content': '<tool_x> ok'}]}) + '\n')
    result = sft_main(['--model', 'swift/tiny-qwen2', '--dataset', str(data), '--output_dir', str(tmp_path / 'o'),
                       '--add_version', 'false', '--report_to', 'none', '--split_dataset_ratio', '0',
                       '--train_type', 'full', '--new_special_tokens', '<tool_x>', '--max_steps', '1',
                       '--plot_loss', 'false'])
    ckpt = result['last_model_checkpoint']
    model, tokenizer = AutoModelForCausalLM.from_pretrained(ckpt), AutoTokenizer.from_pretrained(ckpt)
    assert model.config.vocab_size == len(tokenizer) == 3747 and tokenizer.convert_tokens_to_ids('<tool_x>') == 3746
