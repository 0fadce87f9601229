"""ms-swift training flags that run here as they do there: --padding_free and --early_stop_interval."""
import logging

import pytest
import torch
from transformers import AutoModelForCausalLM

from swift.model.tiny import get_tiny_model_dir
from swift.pipelines.sft import sft_main
from swift.template.collator import pad_batch
from swift.template.packing import PackingCollator, PaddingFreeCollator
from swift.utils import ArgumentError
from ._utils import base_argv, random_rows, train_losses


def _rows():
    return random_rows(1, (9, 4, 13, 6), prompt=2)


@pytest.mark.parametrize('attn', ['sdpa', 'eager'])
def test_padding_free_batch_has_the_padded_loss(attn):
    model = AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-qwen2'), dtype=torch.float32,
                                                 attn_implementation=attn).eval()
    rows = _rows()
    free = PaddingFreeCollator(PackingCollator(pad_token_id=0))(rows)
    assert free['input_ids'].shape == (1, sum(len(r['input_ids']) for r in rows)) and 'attention_mask' not in free
    assert free.pop('num_tokens') == free['input_ids'].numel()
    assert free['position_ids'][0].tolist() == [i for r in rows for i in range(len(r['input_ids']))]
    padded = pad_batch(rows, 0, 'right')
    with torch.no_grad():
        loss_free = model(**free, use_cache=False).loss
        loss_padded = model(**padded, use_cache=False).loss
    assert abs(loss_free.item() - loss_padded.item()) < 1e-5


def test_padding_free_run_has_the_padded_runs_losses(tmp_path, chat_jsonl):
    results = {}
    for free in ('false', 'true'):
        results[free] = sft_main(base_argv(
            chat_jsonl, tmp_path / free, '--max_steps', '3', '--per_device_train_batch_size', '4',
            '--lora_dropout', '0', '--padding_free', free, '--val_dataset', chat_jsonl, '--eval_strategy', 'steps',
            '--eval_steps', '3', '--per_device_eval_batch_size', '4'))
    assert train_losses(results['true']) == pytest.approx(train_losses(results['false']), abs=1e-5)
    evals = {k: [r['eval_loss'] for r in v['log_history'] if 'eval_loss' in r] for k, v in results.items()}
    assert len(evals['true']) == 1 and evals['true'] == pytest.approx(evals['false'], abs=1e-5)
    accs = {k: [r['token_acc'] for r in v['log_history'] if 'token_acc' in r] for k, v in results.items()}
    assert accs['true'] == pytest.approx(accs['false'], abs=1e-6)


@pytest.mark.parametrize('flags, message', [
    (['--predict_with_generate', 'true'], '--padding_free true cannot be combined with --predict_with_generate'),
    (['--acc_strategy', 'seq'], '--padding_free true cannot be combined with --acc_strategy seq'),
])
def test_padding_free_refuses_what_cannot_work(tmp_path, chat_jsonl, flags, message):
    with pytest.raises(ArgumentError, match=message):
        sft_main(base_argv(chat_jsonl, tmp_path, '--padding_free', 'true', *flags))


def test_early_stop_after_n_evaluations_without_improvement(tmp_path, chat_jsonl, caplog):
    """learning_rate 0: eval_loss never improves, so with --early_stop_interval 2 the run stops at the 3rd
    evaluation (the 1st sets the best) instead of running 20 steps."""
    with caplog.at_level(logging.INFO, logger='swift'):
        result = sft_main(base_argv(
            chat_jsonl, tmp_path, '--max_steps', '20', '--learning_rate', '0', '--val_dataset', chat_jsonl,
            '--eval_strategy', 'steps', '--eval_steps', '1', '--early_stop_interval', '2'))
    evals = [r for r in result['log_history'] if 'eval_loss' in r]
    assert [r['step'] for r in evals] == [1, 2, 3]
    assert len(train_losses(result)) == 3
    lines = [r.getMessage() for r in caplog.records if 'early stop' in r.getMessage()]
    assert lines == ['early stop at step 3: eval_loss has not improved on %.6g for 2 evaluations '
                     '(--early_stop_interval 2).' % evals[0]['eval_loss']]


@pytest.mark.parametrize('flags, message', [
    (['--early_stop_interval', '0'], 'must be a positive number of evaluations'),
    (['--early_stop_interval', '2'], 'needs evaluations: set --eval_strategy steps'),
    (['--early_stop_interval', '2', '--eval_strategy', 'steps', '--eval_steps', '1'], 'there is no validation set'),
])
def test_early_stop_refusals(tmp_path, chat_jsonl, flags, message):
    with pytest.raises(ArgumentError, match=message):
        sft_main(base_argv(chat_jsonl, tmp_path, '--max_steps', '2', *flags))
