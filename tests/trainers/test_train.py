"""End-to-end `swift sft` / `swift pt` training on the tiny offline model (CPU, seconds per run)."""
import json
import os

import pytest

from swift.pipelines.sft import pt_main, sft_main
from swift.utils import ArgumentError
from ._utils import base_argv, listdir, read_jsonl, train_losses


def test_sft_learns_and_writes_outputs(tmp_path, chat_jsonl):
    out = tmp_path / 'run'
    result = sft_main(base_argv(
        chat_jsonl, out, '--max_steps', '30', '--per_device_train_batch_size', '4', '--save_strategy', 'steps',
        '--save_steps', '10', '--save_total_limit', '2', '--learning_rate', '5e-3',
        '--create_checkpoint_symlink', 'true',
        '--val_dataset', chat_jsonl, '--eval_steps', '15', '--include_effective_tokens_per_second', 'true'))
    losses = train_losses(result)
    assert len(losses) == 30 and sum(losses[-5:]) / 5 < 0.9 * sum(losses[:5]) / 5
    assert result['output_dir'] == str(out)
    # save_total_limit keeps the newest and the best checkpoint
    checkpoints = [d for d in listdir(out) if d.startswith('checkpoint-')]
    assert len(checkpoints) == 2 and 'checkpoint-30' in checkpoints
    assert result['last_model_checkpoint'] == str(out / 'checkpoint-30')
    assert result['best_model_checkpoint'] in [str(out / c) for c in checkpoints]
    for directory in [out] + [out / c for c in checkpoints]:
        assert (directory / 'args.json').is_file()
    ckpt = out / 'checkpoint-30'
    for name in ('adapter_model.safetensors', 'adapter_config.json', 'tokenizer.json', 'generation_config.json',
                 'chat_template.jinja', 'optimizer.pt', 'trainer_state.json'):
        assert (ckpt / name).is_file(), name
    assert os.path.realpath(out / 'last') == str(ckpt)
    assert os.path.realpath(out / 'best') == result['best_model_checkpoint']
    rows = read_jsonl(out / 'logging.jsonl')
    step_rows = [r for r in rows if 'loss' in r]
    for key in ('loss', 'learning_rate', 'grad_norm', 'token_acc', 'tokens/s', 'global_step/max_steps',
                'elapsed', 'remaining', 'epoch'):
        assert key in step_rows[0], key
    assert step_rows[-1]['global_step/max_steps'] == '30/30'
    assert step_rows[-1]['token_acc'] > step_rows[0]['token_acc']
    evals = [r for r in rows if 'eval_loss' in r]
    assert len(evals) == 2 and all('eval_token_acc' in r for r in evals)
    assert rows[-1]['effective_tokens_per_sec'] > 0
    assert (out / 'images' / 'train_loss.png').stat().st_size > 1000
    assert (out / 'images' / 'eval_loss.png').is_file()


def test_full_training_saves_model(tmp_path, chat_jsonl):
    out = tmp_path / 'full'
    result = sft_main(base_argv(chat_jsonl, out, '--train_type', 'full', '--max_steps', '3', '--learning_rate',
                                '1e-4', '--plot_loss', 'false'))
    assert result['last_model_checkpoint'] == str(out)
    for name in ('model.safetensors', 'config.json', 'generation_config.json', 'tokenizer.json', 'args.json'):
        assert (out / name).is_file(), name
    assert not (out / 'images').exists()


def test_predict_with_generate_scores(tmp_path, chat_jsonl):
    result = sft_main(base_argv(
        chat_jsonl, tmp_path / 'gen', '--max_steps', '2', '--val_dataset', chat_jsonl, '--eval_strategy', 'steps',
        '--eval_steps', '2', '--predict_with_generate', 'true', '--max_new_tokens', '8'))
    evals = [r for r in result['log_history'] if 'eval_loss' in r]
    assert evals and 0 <= evals[-1]['eval_rouge-l'] <= 100 and 'eval_bleu-4' in evals[-1]


def test_pt_trains_on_text(tmp_path, text_jsonl):
    result = pt_main(base_argv(text_jsonl, tmp_path / 'pt', '--max_steps', '3', '--gradient_checkpointing', 'false'))
    losses = train_losses(result)
    assert len(losses) == 3 and all(loss > 0 for loss in losses)


def test_packing_trains_with_fewer_rows(tmp_path, chat_jsonl):
    result = sft_main(base_argv(chat_jsonl, tmp_path / 'packed', '--packing', 'true', '--max_length', '512',
                                '--num_train_epochs', '1', '--per_device_train_batch_size', '1'))
    # 8 samples of ~41 tokens fit into one pack of 512 tokens: one optimizer step per epoch
    assert result['log_history'][-1]['step'] == 1
    assert train_losses(result)[0] > 0


@pytest.mark.parametrize('flags', [['--lazy_tokenize', 'true'], ['--streaming', 'true'],
                                   ['--streaming', 'true', '--packing', 'true', '--max_length', '256']])
def test_lazy_and_streaming(tmp_path, chat_jsonl, flags):
    result = sft_main(base_argv(chat_jsonl, tmp_path / 'lazy', *flags, '--max_steps', '2'))
    assert len(train_losses(result)) == 2


def test_tensorboard_events(tmp_path, chat_jsonl):
    out = tmp_path / 'tb'
    argv = base_argv(chat_jsonl, out, '--max_steps', '2')
    argv[argv.index('--report_to') + 1] = 'tensorboard'
    sft_main(argv)
    events = [f for _, _, files in os.walk(out / 'runs') for f in files if f.startswith('events.out.tfevents')]
    assert events


@pytest.mark.parametrize('flags, message', [
    (['--loss_type', 'focal'], '--loss_type focal'),
    (['--resume_from_checkpoint', '/nonexistent/checkpoint-3'], 'directory not found'),
    (['--packing', 'true', '--lazy_tokenize', 'true'], 'drop --lazy_tokenize'),
])
def test_bad_input_fails_in_one_line(tmp_path, chat_jsonl, flags, message):
    with pytest.raises(ArgumentError, match=message):
        sft_main(base_argv(chat_jsonl, tmp_path / 'x', '--max_steps', '1', *flags))


def _agent_jsonl(tmp_path):
    data = tmp_path / 'agent.jsonl'
    with open(data, 'w', encoding='utf-8') as f:
        for i in range(4):  # responses of different lengths: the normalisation matters
            response = (f'Thought: look{" again" * i}.\nAction: search\nAction Input: {{"q": "sky"}}\n'
                        'Final Answer: Blue.')
            row = {'messages': [{'role': 'user', 'content': 'Sky color?'},
                                {'role': 'assistant', 'content': response}]}
            f.write(json.dumps(row) + '\n')
    return str(data)


def test_react_loss_scale_changes_the_loss(tmp_path):
    data = _agent_jsonl(tmp_path)
    first = {}
    for scheme in ('default', 'react'):
        result = sft_main(base_argv(data, tmp_path / scheme, '--max_steps', '1', '--loss_scale', scheme))
        first[scheme] = train_losses(result)[0]
    # Action / Action Input tokens weigh 2 under react: same weights and data, a different (weighted) loss
    assert first['react'] > first['default'] + 1e-3


def test_gradient_accumulation_matches_one_big_batch(tmp_path):
    data = _agent_jsonl(tmp_path)
    losses = []
    for batch, accumulation in ((4, 1), (2, 2)):
        result = sft_main(base_argv(data, tmp_path / f'b{batch}', '--max_steps', '2', '--loss_scale', 'react',
                                    '--lora_dropout', '0', '--per_device_train_batch_size', str(batch),
                                    '--gradient_accumulation_steps', str(accumulation)))
        losses.append(train_losses(result))
    # Same 4 samples per optimizer step: the same mean over label tokens, the same update, the same 2nd loss.
    assert losses[0] == pytest.approx(losses[1], abs=1e-5)
