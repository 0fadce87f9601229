"""The LLaVA family (a second VL architecture): swift/tiny-llava and the llava1_5_hf template against the
processor's own chat template and token expansion."""
import pytest
import torch
from PIL import Image

RED, BLUE = Image.new('RGB', (40, 30), 'red'), Image.new('RGB', (20, 50), 'blue')


@pytest.fixture(scope='module')
def llava():
    from swift.model import get_model_tokenizer
    from swift.template import get_template
    model, tokenizer = get_model_tokenizer('swift/tiny-llava')
    return model, get_template(tokenizer.model_meta.template, tokenizer)


def _parts(messages):
    """Canonical messages (tags at the start of a message) -> the processor's content-part messages."""
    out = []
    for m in messages:
        n = m['content'].count('<image>')
        text = m['content'].replace('<image>', '')
        out.append({'role': m['role'], 'content': [{'type': 'image'}] * n + [{'type': 'text', 'text': text}]})
    return out


CASES = [
    [{'role': 'user', 'content': '<image>What colour is it?'}],
    [{'role': 'system', 'content': 'Answer in one word.'}, {'role': 'user', 'content': '<image>What colour?'},
     {'role': 'assistant', 'content': 'Red.'}, {'role': 'user', 'content': '<image>And this one?'}],
    [{'role': 'user', 'content': 'No image here.'}],
]


@pytest.mark.parametrize('messages', CASES)
def test_prompt_equals_processor_template_and_expansion(llava, messages):
    model, template = llava
    processor = template.processor
    images = [RED, BLUE][:sum(m['content'].count('<image>') for m in messages)]
    row = {'messages': messages, 'images': images}
    official = processor.apply_chat_template(_parts(messages), add_generation_prompt=True)
    assert template.render_text(row, 'infer') == official
    encoded = template.encode(row, mode='infer')
    reference = processor(text=[official], images=images or None, return_tensors='pt')
    assert encoded['input_ids'] == reference['input_ids'][0].tolist()
    if images:
        assert torch.equal(encoded['pixel_values'], reference['pixel_values'])
        assert encoded['input_ids'].count(processor.image_token_id) == 16 * len(images)  # 4x4 patches, no CLS
    else:
        assert 'pixel_values' not in encoded


def test_training_row_supervises_only_the_answer_and_trains(llava):
    model, template = llava
    rows = [{'messages': [{'role': 'user', 'content': '<image>Colour?'}, {'role': 'assistant', 'content': 'red'}],
             'images': [RED]},
            {'messages': [{'role': 'user', 'content': 'Say hi'}, {'role': 'assistant', 'content': 'hi'}]}]
    encoded = [template.encode(r, mode='train') for r in rows]
    image_id = template.processor.image_token_id
    supervised = [t for t, label in zip(encoded[0]['input_ids'], encoded[0]['labels']) if label != -100]
    assert template.tokenizer.decode(supervised) == ' red' + template.tokenizer.eos_token
    assert all(label == -100 for t, label in zip(encoded[0]['input_ids'], encoded[0]['labels']) if t == image_id)
    batch = template.data_collator(encoded)
    assert batch['pixel_values'].shape == (1, 3, 32, 32) and batch['input_ids'].shape[0] == 2
    loss = model(**batch).loss
    assert torch.isfinite(loss)


def test_tag_and_image_counts_must_match(llava):
    from swift.utils import TemplateError
    _, template = llava
    with pytest.raises(TemplateError, match='1 <image> tags but 2 images'):
        template.encode({'messages': [{'role': 'user', 'content': '<image>two?'}], 'images': [RED, BLUE]}, 'infer')


def test_images_without_tags_go_before_the_first_question(llava):
    _, template = llava
    row = {'messages': [{'role': 'user', 'content': 'What colour?'}], 'images': [RED]}
    assert template.render_text(row, 'infer') == 'USER: <image>\nWhat colour? ASSISTANT:'
