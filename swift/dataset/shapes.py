"""`swift/shapes-vqa`: a tiny built-in image question-answering set made of drawn shapes (offline, deterministic).

The shipped file (data/shapes_vqa.jsonl) holds one spec per row (shape, colour, question kind); the preprocessor
draws each image with PIL (a solid shape of that colour on white, 56x56 pixels) and stores it as a PNG data URL,
so the rows are ordinary canonical image rows. `spec_rows()` regenerates the file.
"""
import base64
import io
from typing import Any, Dict, List

from .preprocess import RowPreprocessor

SHAPES_VQA_ID = 'swift/shapes-vqa'
SIZE = 56
COLORS = {'red': (220, 30, 30), 'green': (30, 160, 60), 'blue': (40, 70, 220), 'yellow': (240, 210, 30),
          'purple': (140, 50, 170), 'orange': (245, 140, 20)}
SHAPES = ('circle', 'square', 'triangle', 'diamond')
QUESTIONS = {
    'shape': ('<image>What shape is in the picture?', 'A {shape}.'),
    'color': ('<image>What colour is the shape?', '{Color}.'),
    'caption': ('<image>Describe the image.', 'A {color} {shape} on a white background.'),
}


def spec_rows() -> List[Dict[str, str]]:
    """Every (shape, colour, question) combination, in a fixed order: the content of data/shapes_vqa.jsonl."""
    return [{'shape': s, 'color': c, 'question': q} for s in SHAPES for c in COLORS for q in QUESTIONS]


def draw(shape: str, color: str, size: int = SIZE):
    """A PIL image of one solid shape (a margin of size/8 around it) on white."""
    from PIL import Image, ImageDraw
    image = Image.new('RGB', (size, size), 'white')
    pen = ImageDraw.Draw(image)
    m, fill = size // 8, COLORS[color]
    lo, hi, mid = m, size - 1 - m, size // 2
    if shape == 'circle':
        pen.ellipse([lo, lo, hi, hi], fill=fill)
    elif shape == 'square':
        pen.rectangle([lo, lo, hi, hi], fill=fill)
    elif shape == 'triangle':
        pen.polygon([(mid, lo), (hi, hi), (lo, hi)], fill=fill)
    elif shape == 'diamond':
        pen.polygon([(mid, lo), (hi, mid), (mid, hi), (lo, mid)], fill=fill)
    else:
        raise ValueError(f'unknown shape {shape!r}; one of {", ".join(SHAPES)}')
    return image


def data_url(image) -> str:
    buf = io.BytesIO()
    image.save(buf, 'PNG')
    return 'data:image/png;base64,' + base64.b64encode(buf.getvalue()).decode()


class ShapesVqaPreprocessor(RowPreprocessor):
    """A spec row (shape, color, question) -> messages with one <image> and the drawn image."""

    def preprocess(self, row: Dict[str, Any]) -> Dict[str, Any]:
        shape, color = row.pop('shape'), row.pop('color')
        query, answer = QUESTIONS[row.pop('question')]
        names = {'shape': shape, 'color': color, 'Color': color.capitalize()}
        row['messages'] = [{'role': 'user', 'content': query},
                           {'role': 'assistant', 'content': answer.format(**names)}]
        row['images'] = [data_url(draw(shape, color))]
        return row
