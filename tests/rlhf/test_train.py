"""`swift rlhf` end to end on the tiny model: every algorithm trains a few LoRA steps, saves and reloads."""
import json

import pytest
import torch
from peft import PeftModel

from swift.model import get_model_tokenizer
from swift.pipelines.rlhf import rlhf_main
from swift.template import get_template
from swift.template.rlhf import encode_preference
from .conftest import listdir, rlhf_argv


def _load(path=None, **kwargs):
    model, tokenizer = get_model_tokenizer('swift/tiny-qwen2', 'float32', **kwargs)
    if path is not None:
        model = PeftModel.from_pretrained(model, path)
    return model.eval(), tokenizer


@torch.no_grad()
def _assert_reloads_trained(result, reloaded):
    """The saved model gives the trained model's logits, and those differ from the base model's."""
    ids = torch.tensor([[5, 17, 42, 99, 7, 3]])
    trained = result['trainer'].model.eval()(input_ids=ids).logits
    assert torch.allclose(reloaded(input_ids=ids).logits, trained, atol=1e-5)
    assert not torch.allclose(_load()[0](input_ids=ids).logits, trained, atol=1e-4)


def _pairs(tokenizer, dataset):
    template = get_template(tokenizer.model_meta.template, tokenizer, loss_scale='last_round')
    with open(dataset, encoding='utf-8') as f:
        return [encode_preference(template, json.loads(line)) for line in f]


@torch.no_grad()
def _logp(model, prompt, completion):
    ids = torch.tensor([prompt + completion])
    logits = model(input_ids=ids).logits[0, len(prompt) - 1:-1]
    return torch.log_softmax(logits, -1).gather(1, ids[0, len(prompt):, None]).sum().item()


def _margin(model, pairs):
    return sum(_logp(model, p['prompt_ids'], p['chosen_ids']) - _logp(model, p['prompt_ids'], p['rejected_ids'])
               for p in pairs) / len(pairs)


@pytest.mark.parametrize('rlhf_type', ['kto', 'cpo', 'simpo', 'orpo'])
def test_lora_types_train_save_reload(tmp_path, pref_jsonl, rlhf_type):
    result = rlhf_main(rlhf_argv(rlhf_type, pref_jsonl, tmp_path))
    losses = [row['loss'] for row in result['log_history'] if 'loss' in row]
    assert len(losses) == 2 and all(loss == loss for loss in losses)
    ckpt = result['last_model_checkpoint']
    assert {'adapter_model.safetensors', 'args.json', 'logging.jsonl'} <= set(listdir(ckpt))
    assert json.load(open(f'{ckpt}/args.json'))['rlhf_type'] == rlhf_type
    _assert_reloads_trained(result, _load(ckpt)[0])


def test_kto_with_label_column(tmp_path, kto_jsonl):
    result = rlhf_main(rlhf_argv('kto', kto_jsonl, tmp_path))
    assert 'adapter_model.safetensors' in listdir(result['last_model_checkpoint'])


def test_dpo_margin_grows_on_a_clear_preference(tmp_path, pref_jsonl):
    result = rlhf_main(rlhf_argv('dpo', pref_jsonl, tmp_path, '--max_steps', '12', '--learning_rate', '5e-3'))
    base, tokenizer = _load()
    pairs = _pairs(tokenizer, pref_jsonl)
    before = _margin(base, pairs)
    trained, _ = _load(result['last_model_checkpoint'])
    assert _margin(trained, pairs) > before + 1.0
    margins = [row['rewards/margins'] for row in result['log_history'] if 'rewards/margins' in row]
    assert margins[-1] > margins[0]


def test_dpo_full_with_ref_model(tmp_path, pref_jsonl):
    result = rlhf_main(rlhf_argv('dpo', pref_jsonl, tmp_path, '--train_type', 'full', '--ref_model',
                                 'swift/tiny-qwen2', '--learning_rate', '1e-4'))
    ckpt = result['last_model_checkpoint']
    assert 'model.safetensors' in listdir(ckpt)
    _assert_reloads_trained(result, get_model_tokenizer(ckpt, 'float32')[0].eval())


@pytest.fixture(scope='module')
def rm_output(tmp_path_factory, pref_jsonl):
    out = tmp_path_factory.mktemp('rm')
    return rlhf_main(rlhf_argv('rm', pref_jsonl, out, '--max_steps', '15', '--learning_rate', '5e-3'))


def test_reward_model_orders_chosen_above_rejected(rm_output, pref_jsonl):
    model, tokenizer = _load(rm_output['last_model_checkpoint'], num_labels=1, task_type='seq_cls')
    with torch.no_grad():
        for pair in _pairs(tokenizer, pref_jsonl):
            chosen = model(input_ids=torch.tensor([pair['prompt_ids'] + pair['chosen_ids']])).logits.item()
            rejected = model(input_ids=torch.tensor([pair['prompt_ids'] + pair['rejected_ids']])).logits.item()
            assert chosen > rejected


def test_ppo_with_trained_reward_adapter(tmp_path, rm_output, pref_jsonl):
    result = rlhf_main(rlhf_argv('ppo', pref_jsonl, tmp_path, '--reward_model', 'swift/tiny-qwen2',
                                 '--reward_adapters', rm_output['last_model_checkpoint'], '--response_length', '8',
                                 '--num_ppo_epochs', '2'))
    ckpt = result['last_model_checkpoint']
    assert {'adapter_model.safetensors', 'value_head.safetensors', 'args.json'} <= set(listdir(ckpt))
    rows = [json.loads(line) for line in open(f'{result["output_dir"]}/logging.jsonl')]
    assert [r['step'] for r in rows] == [1, 2] and all('score' in r and 'kl' in r for r in rows)
    _load(ckpt)


def test_grpo_with_solution_column_and_plugin_reward(tmp_path, math_jsonl, reward_plugin):
    result = rlhf_main(rlhf_argv(
        'grpo', math_jsonl, tmp_path, '--external_plugins', reward_plugin, '--reward_funcs', 'accuracy',
        'short_answer', '--reward_weights', '1', '0.5', '--num_generations', '2', '--max_completion_length', '8',
        '--log_completions', 'true'))
    rows = [json.loads(line) for line in open(tmp_path / 'completions.jsonl')]
    assert len(rows) == 4 and {'prompt', 'completion', 'rewards', 'step'} <= set(rows[0])
    assert set(rows[0]['rewards']) == {'accuracy', 'short_answer'}
    assert all(0 < r['rewards']['short_answer'] <= 1 for r in rows)
    assert 'adapter_model.safetensors' in listdir(result['last_model_checkpoint'])


def test_grpo_reward_model_is_appended_last(tmp_path, math_jsonl, rm_output):
    rlhf_main(rlhf_argv('grpo', math_jsonl, tmp_path, '--reward_funcs', 'format', '--reward_model',
                        'swift/tiny-qwen2', '--reward_adapters', rm_output['last_model_checkpoint'],
                        '--reward_weights', '1', '2', '--num_generations', '2', '--max_completion_length', '4',
                        '--max_steps', '1', '--log_completions', 'true'))
    row = json.loads(open(tmp_path / 'completions.jsonl').readline())
    names = list(row['rewards'])
    assert names[0] == 'format' and len(names) == 2 and isinstance(row['rewards'][names[1]], float)
