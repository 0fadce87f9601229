"""Training/inference encodes with the real tiny tokenizer: label masks, truncation, system, pt, collator."""
import pytest
import torch

from swift.template import MaxLengthError, get_template
from swift.utils import TemplateError

from ._utils import train_row


def supervised_text(template, encoded):
    ids = [t for t, label in zip(encoded['input_ids'], encoded['labels']) if label != -100]
    return template.tokenizer.decode(ids)


def test_default_supervises_every_response_and_its_end_of_turn(qwen_tok):
    template = get_template('qwen2_5', qwen_tok)
    encoded = template.encode(train_row(rounds=2))
    assert supervised_text(template, encoded) == 'It is 0.<|im_end|>It is 2.<|im_end|>'
    assert encoded['loss_scale'] is None and encoded['length'] == len(encoded['input_ids'])
    assert template.render_example(encoded, color=False).endswith(
        '<|im_start|>assistant\n[[It is 2.<|im_end|>]]\n')


def test_last_round_and_all(qwen_tok):
    row = train_row(rounds=2)
    last = get_template('qwen2_5', qwen_tok, loss_scale='last_round')
    assert supervised_text(last, last.encode(row)) == 'It is 2.<|im_end|>'
    every = get_template('qwen2_5', qwen_tok, loss_scale='all').encode(row)
    assert all(label != -100 for label in every['labels'])


def test_llama3_labels_with_bos_tokenizer(llama_tok):
    template = get_template('llama3', llama_tok)
    encoded = template.encode(train_row(rounds=2))
    assert encoded['input_ids'].count(llama_tok.bos_token_id) == 1
    assert supervised_text(template, encoded) == 'It is 0.<|eot_id|>It is 2.<|eot_id|>'


def test_infer_prompt_ends_with_generation_prompt_and_drops_reference(qwen_tok):
    template = get_template('qwen2_5', qwen_tok)
    encoded = template.encode(train_row(rounds=2), mode='infer')
    text = qwen_tok.decode(encoded['input_ids'])
    assert text.endswith('Question 1: what is 1 + 1?<|im_end|>\n<|im_start|>assistant\n')
    assert set(encoded) == {'input_ids', 'length'}


def test_truncation_strategies(qwen_tok):
    row = train_row(rounds=2)
    full = get_template('qwen2_5', qwen_tok).encode(row)['input_ids']
    with pytest.raises(MaxLengthError, match='max_length 10'):
        get_template('qwen2_5', qwen_tok, max_length=10).encode(row)
    left = get_template('qwen2_5', qwen_tok, max_length=10, truncation_strategy='left').encode(row)
    right = get_template('qwen2_5', qwen_tok, max_length=10, truncation_strategy='right').encode(row)
    assert left['input_ids'] == full[-10:] and right['input_ids'] == full[:10]
    assert left['length'] == len(left['labels']) == 10


def test_system_priority_and_txt_file(qwen_tok, tmp_path):
    path = tmp_path / 'system.txt'
    path.write_text('System from a file.', encoding='utf-8')
    template = get_template('qwen2_5', qwen_tok, default_system=str(path))
    assert template.render_text(train_row()).startswith('<|im_start|>system\nSystem from a file.<|im_end|>')
    with_row_system = template.render_text(train_row(system=True))
    assert 'You are a careful bot.' in with_row_system and 'System from a file.' not in with_row_system
    assert 'You are Qwen' in get_template('qwen2_5', qwen_tok).render_text(train_row())
    with pytest.raises(TemplateError, match='does not exist'):
        get_template('qwen2_5', qwen_tok, default_system=str(tmp_path / 'missing.txt'))


def test_pt_text_row_is_plain_text_with_eos(qwen_tok):
    row = {'messages': [{'role': 'assistant', 'content': 'Plain pretraining text.'}]}
    template = get_template('qwen2_5', qwen_tok, use_chat_template=False)
    encoded = template.encode(row)
    assert qwen_tok.decode(encoded['input_ids']) == 'Plain pretraining text.<|im_end|>'
    assert encoded['labels'] == encoded['input_ids']
    chat_template = get_template('qwen2_5', qwen_tok)
    chat_template.set_mode('pt')
    pt = chat_template.encode({'messages': [{'role': 'user', 'content': 'Q'}, {'role': 'assistant', 'content': 'A'}]})
    assert qwen_tok.decode(pt['input_ids']) == 'QA<|im_end|>'


def test_data_collator_pads_right_for_train_left_for_infer(qwen_tok):
    template = get_template('qwen2_5', qwen_tok)
    rows = [train_row(rounds=1), train_row(rounds=2)]
    short, long_ = [template.encode(r) for r in rows]
    batch = template.data_collator([short, long_])
    pad, n = qwen_tok.pad_token_id, len(short['input_ids'])
    assert batch['input_ids'].shape == (2, len(long_['input_ids']))
    assert batch['input_ids'][0, n:].eq(pad).all() and batch['labels'][0, n:].eq(-100).all()
    assert batch['attention_mask'][0].sum() == n and 'loss_scale' not in batch
    template.set_mode('infer')
    batch = template.data_collator([template.encode(r) for r in rows])
    assert batch['attention_mask'][0, 0] == 0 and batch['attention_mask'][0, -1] == 1
    assert 'labels' not in batch and batch['input_ids'].dtype == torch.long


def test_stop_words_and_decode(qwen_tok, llama_tok):
    assert get_template('qwen2_5', qwen_tok).stop_words[0] == '<|im_end|>'
    assert '<|eot_id|>' in get_template('llama3', llama_tok).stop_words
    template = get_template('qwen2_5', qwen_tok)
    ids = qwen_tok('Hi there<|im_end|>', add_special_tokens=False)['input_ids']
    assert template.decode(ids) == 'Hi there'


def test_bad_rows_raise_readable_errors(qwen_tok):
    template = get_template('qwen2_5', qwen_tok)
    with pytest.raises(TemplateError, match='must end with an assistant'):
        template.encode({'messages': [{'role': 'user', 'content': 'hi'}]})
    with pytest.raises(TemplateError, match='alternate'):
        template.encode({'messages': [{'role': 'user', 'content': 'a'}, {'role': 'user', 'content': 'b'}]})
    with pytest.raises(TemplateError, match='truncation_strategy'):
        get_template('qwen2_5', qwen_tok, truncation_strategy='middle')


def test_tool_turns_are_never_supervised(qwen_tok):
    row = {'messages': [{'role': 'user', 'content': 'add 1 2'}, {'role': 'assistant', 'content': 'Action: add'},
                        {'role': 'tool', 'content': '3'}, {'role': 'assistant', 'content': 'Final Answer: 3'}]}
    glm = get_template('glm4', qwen_tok)
    assert '<|assistant|>\nAction: add<|observation|>\n3<|assistant|>\nFinal Answer: 3<|user|>' in glm.render_text(row)
    mistral = get_template('mistral', qwen_tok)
    encoded = mistral.encode(row)
    assert '[INST] Observation: 3 [/INST]' in mistral.render_text(row)
    assert supervised_text(mistral, encoded) == 'Action: add<|im_end|>Final Answer: 3<|im_end|>'
