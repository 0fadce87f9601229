"""Loss, accuracy, text metrics, plots and the one-line user errors of the trainer package."""
import errno

import pytest
import torch
from transformers import AutoModelForCausalLM

from swift.model.tiny import get_tiny_model_dir
from swift.trainers import (accuracy_counts, bleu4, causal_lm_loss, check_loss_type, check_report_to,
                            disk_full_as_swift_error, plot_curves, rouge_l)
from swift.trainers.callbacks import smooth
from swift.trainers.generate import GenerationCollator, generation_encoder
from swift.utils import ArgumentError, SwiftError


@pytest.fixture(scope='module')
def model():
    return AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-qwen2'), dtype=torch.float32).eval()


def _batch():
    ids = torch.randint(10, 500, (2, 9), generator=torch.Generator().manual_seed(1))
    labels = ids.clone()
    labels[:, :4] = -100
    labels[1, 7:] = -100
    return ids, labels


def test_loss_matches_transformers(model):
    ids, labels = _batch()
    with torch.no_grad():
        out = model(input_ids=ids, labels=labels)
        n = int(labels[:, 1:].ne(-100).sum())
        summed = model(input_ids=ids, labels=labels, num_items_in_batch=2 * n).loss
    assert torch.allclose(causal_lm_loss(out.logits, labels), out.loss, atol=1e-6)
    assert torch.allclose(causal_lm_loss(out.logits, labels, num_items_in_batch=2 * n), summed, atol=1e-6)


def test_loss_scale_weights_tokens(model):
    ids, labels = _batch()
    with torch.no_grad():
        logits = model(input_ids=ids).logits
    ones = torch.ones(ids.shape)
    assert torch.allclose(causal_lm_loss(logits, labels, ones), causal_lm_loss(logits, labels))
    doubled = causal_lm_loss(logits, labels, 2 * ones)
    assert torch.allclose(doubled, 2 * causal_lm_loss(logits, labels))
    zero_second_row = ones.clone()
    zero_second_row[1] = 0
    only_first = causal_lm_loss(logits[:1], labels[:1], num_items_in_batch=labels[:, 1:].ne(-100).sum())
    assert torch.allclose(causal_lm_loss(logits, labels, zero_second_row), only_first, atol=1e-6)


def test_accuracy_counts():
    labels = torch.tensor([[-100, 1, 2, 3], [-100, -100, 2, 2]])
    logits = torch.full((2, 4, 5), -1.)
    for row, preds in enumerate(([1, 2, 0, 0], [0, 2, 2, 0])):  # prediction at t is for label t+1
        for t, p in enumerate(preds):
            logits[row, t, p] = 1.
    assert [int(x) for x in accuracy_counts(logits, labels, 'token')] == [4, 5]
    assert [int(x) for x in accuracy_counts(logits, labels, 'seq')] == [1, 2]


def test_text_metrics():
    assert rouge_l('the cat sat', 'the cat sat') == 1.
    assert rouge_l('a b', 'c d') == 0.
    assert 0 < rouge_l('the cat sat down', 'the cat sat') < 1
    assert rouge_l('我爱北京', '我爱上海') == 0.5  # CJK characters are tokens
    assert bleu4('the quick brown fox jumps', 'the quick brown fox jumps') == pytest.approx(1.)
    assert bleu4('fox', 'the quick brown fox jumps') < 0.3


@pytest.mark.parametrize('template_type', ['deepseek_r1', 'qwen2_5', 'llama3'])
def test_predict_with_generate_prompt_is_the_inference_prompt(template_type):
    """Regression: the prompt was cut out of the training encoding, which for deepseek_r1 lacks the `<think>\n`
    the inference prompt has."""
    from swift.model.tiny import load_tiny_tokenizer
    from swift.template import get_template
    template = get_template(template_type, load_tiny_tokenizer())
    row = {'messages': [{'role': 'user', 'content': 'Hi there'}, {'role': 'assistant', 'content': 'Hello!'}]}
    [out] = generation_encoder(template)(row)
    expected = template.encode({'messages': row['messages'][:1]}, mode='infer')['input_ids']
    assert out['prompt_ids'] == expected and out['response'] == 'Hello!'
    assert out['input_ids'] == template.encode(row)['input_ids']
    if template_type == 'deepseek_r1':
        assert template.decode(out['prompt_ids'], skip_special_tokens=False).endswith('<think>\n')
    batch = GenerationCollator(template)([out, out])
    assert batch['prompt_ids'] == [expected, expected] and batch['input_ids'].shape[0] == 2


def test_plot_and_smooth(tmp_path):
    history = [{'loss': 5 - i * 0.1, 'step': i} for i in range(20)] + [{'eval_loss': 4., 'step': 20}]
    paths = plot_curves(history, str(tmp_path))
    assert sorted(p.split('/')[-1] for p in paths) == ['eval_loss.png', 'train_loss.png']
    values = smooth([1., 0., 1., 0.])
    assert len(values) == 4 and all(0 <= v <= 1 for v in values)


def test_disk_full_is_one_line_error(tmp_path):
    target = tmp_path / 'checkpoint-5'
    with pytest.raises(SwiftError, match='No space left .*checkpoint-5.*GiB free'):
        with disk_full_as_swift_error(str(target)):
            raise OSError(errno.ENOSPC, 'No space left on device')
    with pytest.raises(PermissionError):
        with disk_full_as_swift_error(str(target)):
            raise PermissionError(errno.EACCES, 'denied')


def test_report_to_checks(monkeypatch):
    check_report_to(['none'])
    check_report_to(['tensorboard'])
    with pytest.raises(ArgumentError, match='unknown'):
        check_report_to(['tensorbord'])
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name, *a: None if name == 'wandb' else real(name, *a))
    with pytest.raises(ArgumentError, match='pip install wandb'):
        check_report_to(['wandb'])


def test_loss_type_hook():
    assert check_loss_type(None) is None
    with pytest.raises(ArgumentError, match='--loss_type focal'):
        check_loss_type('focal')
