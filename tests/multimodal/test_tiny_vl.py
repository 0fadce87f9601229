import base64
import io
import os

import pytest
import torch
from PIL import Image

from swift.model import get_model_tokenizer, get_tiny_model_dir
from swift.template.vision import ImageError, VisionSettings, load_image
from swift.utils import TemplateError


def _png_bytes(color='red', size=(56, 56)) -> bytes:
    buf = io.BytesIO()
    Image.new('RGB', size, color).save(buf, 'PNG')
    return buf.getvalue()


def test_tiny_vl_dir_has_processor_and_loads(vl_model_tokenizer):
    model, tok = vl_model_tokenizer
    model_dir = get_tiny_model_dir('swift/tiny-qwen2-vl')
    assert {'processor_config.json', 'chat_template.jinja', 'model.safetensors'} <= set(os.listdir(model_dir))
    assert type(model).__name__ == 'Qwen2VLForConditionalGeneration'
    assert tok.model_meta.model_type == 'tiny_qwen2_vl' and tok.model_meta.template == 'qwen2_vl'
    assert tok.model_meta.is_multimodal
    assert sum(p.numel() for p in model.model.visual.parameters()) < 200_000
    # The processor is transformers' own: placeholders expanded by it, pixels by its image processor.
    text = tok.processor.apply_chat_template(
        [{'role': 'user', 'content': [{'type': 'image'}, {'type': 'text', 'text': 'shape?'}]}],
        add_generation_prompt=True)
    inputs = tok.processor(text=[text], images=[Image.new('RGB', (56, 56), 'blue')], return_tensors='pt')
    assert inputs['image_grid_thw'].tolist() == [[1, 4, 4]]
    assert (inputs['input_ids'] == model.config.image_token_id).sum() == 4
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape[-1] == model.config.text_config.vocab_size and torch.isfinite(logits).all()


def test_tiny_qwen2_5_vl_forward(swift_cache):
    model, tok = get_model_tokenizer('swift/tiny-qwen2_5-vl')
    assert type(model).__name__ == 'Qwen2_5_VLForConditionalGeneration'
    assert type(tok.processor).__name__.endswith('Qwen2_5_VLProcessor')
    text = '<|vision_start|><|image_pad|><|vision_end|>hi'
    inputs = tok.processor(text=[text], images=[Image.new('RGB', (84, 56), 'green')], return_tensors='pt')
    with torch.no_grad():
        assert torch.isfinite(model(**inputs).logits).all()


def test_load_image_references(tmp_path):
    raw = _png_bytes()
    path = tmp_path / 'a.png'
    path.write_bytes(raw)
    b64 = base64.b64encode(raw).decode()
    for ref in (str(path), f'file://{path}', raw, f'data:image/png;base64,{b64}', b64, {'bytes': raw, 'path': None},
                Image.new('L', (56, 56))):
        image = load_image(ref)
        assert image.size == (56, 56) and image.mode == 'RGB'


@pytest.mark.parametrize('ref,message', [('https://example.com/a.png', 'remote'), ('/no/such.png', 'does not exist'),
                                         (b'not an image', 'Cannot read image'), (3, 'must be a path')])
def test_load_image_refusals(ref, message):
    with pytest.raises(ImageError, match=message):
        load_image(ref)


def test_vision_settings_from_env(vl_tokenizer):
    image_processor = vl_tokenizer.processor.image_processor
    settings = VisionSettings.from_env(environ={'MAX_PIXELS': '28*28*4', 'MIN_PIXELS': '784'})
    assert settings.image_kwargs(image_processor) == {'size': {'longest_edge': 3136, 'shortest_edge': 784}}
    assert VisionSettings.from_env(environ={}).image_kwargs(image_processor)['size']['longest_edge'] == 112 * 112
    with pytest.raises(TemplateError, match='IMAGE_FACTOR=32'):
        VisionSettings.from_env(environ={'IMAGE_FACTOR': '32'}).image_kwargs(image_processor)
    with pytest.raises(TemplateError, match='MAX_PIXELS=.abc'):
        VisionSettings.from_env(environ={'MAX_PIXELS': 'abc'})
    with pytest.raises(TemplateError, match='FRAME_FACTOR'):
        VisionSettings.from_env(environ={'FRAME_FACTOR': '2'})
    wide = VisionSettings.from_env(environ={'MAX_RATIO': '3'})
    with pytest.raises(ImageError, match='aspect ratio'):
        wide.prepare(Image.new('RGB', (400, 100)))
    assert VisionSettings.from_env(max_pixels=56 * 56).prepare(Image.new('RGB', (112, 112))).size == (56, 56)
