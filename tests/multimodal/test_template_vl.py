"""The Qwen2-VL template against the processor's own chat template and placeholder expansion."""
import pytest
import torch
from PIL import Image

from swift.template import get_template
from swift.utils import TemplateError

RED, BLUE = Image.new('RGB', (56, 56), 'red'), Image.new('RGB', (84, 56), 'blue')


def _parts(text_with_tags: str):
    """'<image>Describe <image>' -> OpenAI-style content parts, as the official template takes them."""
    parts = []
    for i, chunk in enumerate(text_with_tags.split('<image>')):
        if i:
            parts.append({'type': 'image'})
        if chunk:
            parts.append({'type': 'text', 'text': chunk})
    return parts


CASES = [
    ('<image>What shape?', [RED], None),
    ('Compare <image> and <image>.', [RED, BLUE], 'You are a shape expert.'),
    ('Describe it.', [], None),
]


@pytest.mark.parametrize('template_type', ['qwen2_vl', 'qwen2_5_vl'])
@pytest.mark.parametrize('query,images,system', CASES)
def test_matches_processor_chat_template_and_expansion(vl_tokenizer, template_type, query, images, system):
    processor = vl_tokenizer.processor
    template = get_template(template_type, vl_tokenizer)
    messages = ([{'role': 'system', 'content': system}] if system else []) + [
        {'role': 'user', 'content': query}, {'role': 'assistant', 'content': 'A red square.'},
        {'role': 'user', 'content': 'And now?'}]
    row = {'messages': messages, 'images': images}
    official_messages = [{**m, 'content': _parts(m['content'])} for m in messages]
    official = processor.apply_chat_template(official_messages, add_generation_prompt=True)
    assert template.render_text(row, mode='infer') == official
    encoded = template.encode(row, mode='infer')
    reference = processor(text=[official], images=images or None, return_tensors='pt')
    assert encoded['input_ids'] == reference['input_ids'][0].tolist()
    assert encoded['mm_token_type_ids'] == reference['mm_token_type_ids'][0].tolist()
    if images:
        assert torch.equal(encoded['pixel_values'], reference['pixel_values'])
        assert torch.equal(encoded['image_grid_thw'], reference['image_grid_thw'])


def test_training_text_matches_official_and_masks_vision_tokens(vl_tokenizer):
    template = get_template('qwen2_vl', vl_tokenizer)
    row = {'messages': [{'role': 'user', 'content': '<image>What shape?'},
                        {'role': 'assistant', 'content': 'A red square.'}], 'images': [RED]}
    official = vl_tokenizer.processor.apply_chat_template(
        [{'role': 'user', 'content': _parts('<image>What shape?')},
         {'role': 'assistant', 'content': [{'type': 'text', 'text': 'A red square.'}]}])
    assert template.render_text(row, mode='train') == official
    encoded = template.encode(row)
    image_id = vl_tokenizer.processor.image_token_id
    n_image = encoded['input_ids'].count(image_id)
    assert n_image == 4  # 56x56 px -> 4x4 patches -> 2x2 merged tokens, as the processor counts them
    assert all(label == -100 for tok, label in zip(encoded['input_ids'], encoded['labels']) if tok == image_id)
    supervised = vl_tokenizer.decode([t for t in encoded['labels'] if t != -100], skip_special_tokens=False)
    assert supervised == 'A red square.<|im_end|>'


def test_untagged_images_go_before_the_first_user_text(vl_tokenizer):
    template = get_template('qwen2_vl', vl_tokenizer)
    row = {'messages': [{'role': 'system', 'content': 'S'}, {'role': 'user', 'content': 'What shape?'}],
           'images': [RED, BLUE]}
    text = template.render_text(row, mode='infer')
    assert '<|im_start|>user\n' + '<|vision_start|><|image_pad|><|vision_end|>' * 2 + 'What shape?' in text


def test_tag_count_mismatch_and_text_template_refusal(vl_tokenizer):
    template = get_template('qwen2_vl', vl_tokenizer)
    row = {'messages': [{'role': 'user', 'content': '<image><image>x'}, {'role': 'assistant', 'content': 'y'}],
           'images': [RED]}
    with pytest.raises(TemplateError, match='2 <image> tags but 1 images'):
        template.encode(row)
    text_template = get_template('qwen2_5', vl_tokenizer)
    with pytest.raises(TemplateError, match='text-only'):
        text_row = {**row, 'messages': [{'role': 'user', 'content': 'x'}, {'role': 'assistant', 'content': 'y'}]}
        text_template.encode(text_row)


def test_collator_batches_mixed_rows_and_model_runs(vl_model_tokenizer):
    model, tok = vl_model_tokenizer
    template = get_template('qwen2_vl', tok)
    rows = [{'messages': [{'role': 'user', 'content': '<image>Shape?'}, {'role': 'assistant', 'content': 'Square.'}],
             'images': [RED]},
            {'messages': [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello.'}]},
            {'messages': [{'role': 'user', 'content': '<image><image>Two?'}, {'role': 'assistant', 'content': 'Yes'}],
             'images': [BLUE, RED]}]
    encoded = template.encode_batch(rows)
    assert [e['input_ids'] for e in encoded] == [template.encode(r)['input_ids'] for r in rows]
    batch = template.data_collator(encoded)
    assert batch['pixel_values'].shape[0] == sum(e['pixel_values'].shape[0] for e in encoded if 'pixel_values' in e)
    assert batch['image_grid_thw'].tolist() == [[1, 4, 4], [1, 4, 6], [1, 4, 4]]
    assert batch['mm_token_type_ids'].shape == batch['input_ids'].shape
    loss = model(**batch).loss
    assert torch.isfinite(loss)
    # Each row alone gives the same loss contribution as inside the batch: padding and image order are right.
    single = template.data_collator([encoded[2]])
    with torch.no_grad():
        full = model(**batch).logits[2, :single['input_ids'].shape[1]]
        alone = model(**single).logits[0]
    assert torch.allclose(full, alone, atol=1e-4)


@pytest.mark.skipif(__import__('importlib').util.find_spec('torchvision') is not None,
                    reason='with torchvision the processor has its video processor')
def test_videos_without_torchvision_fail_per_row_in_one_line(vl_tokenizer):
    from swift.template.vision import ImageError
    template = get_template('qwen2_vl', vl_tokenizer)
    row = {'messages': [{'role': 'user', 'content': '<video>What happens?'}, {'role': 'assistant', 'content': 'x'}],
           'videos': [[RED, BLUE]]}
    with pytest.raises(ImageError, match='videos need torchvision') as info:
        template.encode(row)
    assert info.value.reason == 'videos need torchvision'
    assert '<|vision_start|><|video_pad|><|vision_end|>What happens?' in template.render_text(row, mode='infer')
