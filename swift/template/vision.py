"""Placeholder until feat/vl's image loader lands (merge takes theirs)."""
import base64
import io
import os


def load_image(ref):
    from PIL import Image
    if isinstance(ref, Image.Image):
        return ref.convert('RGB')
    if isinstance(ref, bytes):
        return Image.open(io.BytesIO(ref)).convert('RGB')
    if isinstance(ref, str) and ref.startswith('data:'):
        return Image.open(io.BytesIO(base64.b64decode(ref.split(',', 1)[1]))).convert('RGB')
    if isinstance(ref, str) and os.path.isfile(ref):
        return Image.open(ref).convert('RGB')
    return Image.open(io.BytesIO(base64.b64decode(ref))).convert('RGB')
