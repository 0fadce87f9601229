"""Image rows through the dataset layer: formats, checks and drop reasons, the built-in swift/shapes-vqa."""
import json

import pytest
from PIL import Image

from swift.dataset import load_dataset
from swift.dataset.shapes import spec_rows
from swift.template.vision import load_image
from swift.utils import DatasetError


@pytest.fixture(scope='module')
def image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('img')
    (root / 'img').mkdir()
    Image.new('RGB', (56, 56), 'red').save(root / 'img' / 'red.png')
    (root / 'img' / 'bad.png').write_text('not a png')
    return root


def _write(root, name, rows):
    path = root / name
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return str(path)


def _qa(content, **extra):
    return {'messages': [{'role': 'user', 'content': content}, {'role': 'assistant', 'content': 'Red.'}], **extra}


def test_formats_become_canonical_image_rows(image_dir):
    red = str(image_dir / 'img' / 'red.png')
    rows = [
        _qa('<image>Colour?', images=['img/red.png']),  # relative to the data file's folder
        _qa([{'type': 'image_url', 'image_url': {'url': 'img/red.png'}}, {'type': 'text', 'text': 'Colour?'}]),
        {'conversations': [{'from': 'human', 'value': '<image>Colour?'}, {'from': 'gpt', 'value': 'Red.'}],
         'images': ['img/red.png']},  # ShareGPT (LLaMA-Factory)
        {'instruction': '<image>Colour?', 'input': '', 'output': 'Red.', 'images': ['img/red.png']},  # alpaca
        _qa([{'type': 'text', 'text': 'Colour? '}, {'type': 'image', 'image': red}]),
    ]
    train, _ = load_dataset([_write(image_dir, 'formats.jsonl', rows)])
    assert len(train) == 5
    assert [r['images'] for r in train] == [[red]] * 5
    assert [r['messages'][0]['content'] for r in train] == ['<image>Colour?'] * 4 + ['Colour? <image>']


def test_bad_images_are_counted_per_reason_and_strict_names_the_line(image_dir, caplog):
    rows = [_qa('<image>ok', images=['img/red.png']), _qa('<image>x', images=['img/missing.png']),
            _qa('<image>x', images=['img/bad.png']), _qa('<image>x', images=['https://example.com/a.png']),
            _qa([{'type': 'image_url', 'image_url': {'url': 'img/red.png'}}], images=['img/red.png'])]
    path = _write(image_dir, 'bad.jsonl', rows)
    train, _ = load_dataset([path])
    assert len(train) == 1
    summary = caplog.text
    for reason in ('missing image: 1 [line 2]', 'unreadable image: 1 [line 3]', 'remote image URL: 1 [line 4]',
                   'images both in content parts and in the images column: 1 [line 5]'):
        assert reason in summary
    with pytest.raises(DatasetError, match=r'bad.jsonl, line 2: missing image \(Image file .img/missing.png. does not'):
        load_dataset([path], strict=True)


def test_shapes_vqa_is_generated_deterministically():
    from swift.dataset.builtin import DATA_DIR
    with open(f'{DATA_DIR}/shapes_vqa.jsonl', encoding='utf-8') as f:
        assert [json.loads(line) for line in f] == spec_rows()
    train, _ = load_dataset(['swift/shapes-vqa'])
    again, _ = load_dataset(['swift/shapes-vqa'])
    assert len(train) == 72 and train['images'] == again['images']
    row = next(r for r in train if r['messages'][1]['content'] == 'A red circle on a white background.')
    image = load_image(row['images'][0])
    assert image.size == (56, 56)
    assert image.getpixel((28, 28)) == (220, 30, 30) and image.getpixel((1, 1)) == (255, 255, 255)
