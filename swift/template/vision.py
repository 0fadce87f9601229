"""Images for multimodal templates: the one image loader and the one place the resize settings are read.

An image reference is a local path, a data URL (`data:image/png;base64,...`), a bare base64 string, raw bytes,
a `{'bytes': ..., 'path': ...}` dict (a `datasets.Image` column) or a PIL.Image. http(s) URLs are refused: this
toolkit never fetches data from the network while training or serving.

Resize settings (ms-swift's model-specific environment variables for qwen2_vl / qwen2_5_vl, see
docs/multimodal.md), read only by `VisionSettings.from_env`:
  MAX_PIXELS, MIN_PIXELS   bounds of H*W after the processor's resize (default: the model's processor config)
  IMAGE_FACTOR             side multiple (patch_size * merge_size of the model; another value is refused)
  MAX_RATIO                largest long/short side ratio accepted (default 200; a wider image is a row error)
  VIDEO_MIN_PIXELS, VIDEO_MAX_PIXELS, FPS, FPS_MIN_FRAMES, FPS_MAX_FRAMES   the video processor's bounds
  VIDEO_TOTAL_PIXELS, FRAME_FACTOR   refused when set (transformers' video processor has no such knob)
and `--max_pixels` (any model): an image with more pixels is scaled down, aspect kept, before the processor.
"""
import base64
import binascii
import io
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional

from swift.utils import TemplateError

_DATA_URL = re.compile(r'^data:(?:image|video)/[\w.+-]+;base64,', re.I)
_BASE64 = re.compile(r'^[A-Za-z0-9+/\s]+={0,2}$')
INT_ENV = ('MAX_PIXELS', 'MIN_PIXELS', 'IMAGE_FACTOR', 'VIDEO_MIN_PIXELS', 'VIDEO_MAX_PIXELS', 'FPS_MIN_FRAMES',
           'FPS_MAX_FRAMES')
REFUSED_ENV = ('VIDEO_TOTAL_PIXELS', 'FRAME_FACTOR')
FLOAT_ENV = ('MAX_RATIO', 'FPS')


class ImageError(TemplateError):
    """An image of a row cannot be used (missing, unreadable, remote, too wide): the row is dropped and counted
    under `reason` in the dataset summary."""

    def __init__(self, message: str, reason: str = 'unreadable image'):
        super().__init__(message)
        self.reason = reason


def _open(source, what: str, full: bool = True):
    """PIL.Image of bytes or a path; `full=False` reads the header only (the cheap check of dataset loading)."""
    from PIL import Image, UnidentifiedImageError
    try:
        image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
        if full:
            image.load()
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise ImageError(f'Cannot read image {what}: {e}.') from None
    return image


def _short(ref: str) -> str:
    return ref if len(ref) <= 80 else f'{ref[:60]}...({len(ref)} chars)'


def _source(ref: str, root: Optional[str] = None):
    """(bytes or path, description) of a string reference; relative paths also tried under `root`."""
    if ref.startswith(('http://', 'https://')):
        raise ImageError(f'Image URL {_short(ref)} is remote and this toolkit works offline; download it and '
                         'give the local path (or a data URL).', reason='remote image URL')
    if _DATA_URL.match(ref):
        return _b64decode(ref.split(',', 1)[1], ref), 'from a data URL'
    path = os.path.expanduser(ref[7:] if ref.startswith('file://') else ref)
    if root and not os.path.isabs(path) and not os.path.isfile(path) and os.path.isfile(os.path.join(root, path)):
        path = os.path.join(root, path)
    if os.path.isfile(path):
        return path, repr(path)
    if len(ref) > 64 and _BASE64.match(ref):
        return _b64decode(ref, ref), 'from a base64 string'
    raise ImageError(f'Image file {_short(ref)!r} does not exist.', reason='missing image')


def load_image(ref: Any):
    """A PIL.Image (RGB) from any image reference (see the module docstring); ImageError when unusable."""
    from PIL import Image
    if isinstance(ref, Image.Image):
        image = ref
    elif isinstance(ref, (bytes, bytearray)):
        image = _open(bytes(ref), f'from {len(ref)} bytes')
    elif isinstance(ref, Mapping) and (ref.get('bytes') or ref.get('path')):
        return load_image(ref.get('bytes') or ref.get('path'))
    elif isinstance(ref, str):
        image = _open(*_source(ref.strip()))
    else:
        raise ImageError(f'An image must be a path, data URL, base64 string, bytes or PIL.Image; '
                         f'got {type(ref).__name__}.', reason='not an image reference')
    return image if image.mode == 'RGB' else image.convert('RGB')


def check_image(ref: Any, root: Optional[str] = None) -> Any:
    """The reference a dataset row keeps, after a header-only read: relative paths resolved (as given, else under
    `root`, the data file's folder, as LLaMA-Factory does), bytes turned into a data URL; ImageError if unusable."""
    from PIL import Image
    if isinstance(ref, Image.Image):
        return ref
    if isinstance(ref, (bytes, bytearray)):
        image = _open(bytes(ref), f'from {len(ref)} bytes', full=False)
        return f'data:image/{(image.format or "png").lower()};base64,{base64.b64encode(bytes(ref)).decode()}'
    if isinstance(ref, Mapping) and (ref.get('bytes') or ref.get('path')):
        check_image(ref.get('bytes') or ref.get('path'), root)
        return ref
    if not isinstance(ref, str):
        raise ImageError(f'An image must be a path, data URL, base64 string, bytes or PIL.Image; '
                         f'got {type(ref).__name__}.', reason='not an image reference')
    source, what = _source(ref.strip(), root)
    _open(source, what, full=False)
    return os.path.abspath(source) if isinstance(source, str) and source != ref.strip() else ref


def _b64decode(text: str, ref: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        raise ImageError(f'Image {_short(ref)} is not valid base64.') from None


def _env_number(environ: Mapping[str, str], name: str, cast):
    value = environ.get(name)
    if value in (None, ''):
        return None
    try:
        return cast(eval(value, {'__builtins__': {}}, {})) if re.fullmatch(r'[\d\s*+.]+', value) else cast(value)
    except (ValueError, SyntaxError, TypeError):
        raise TemplateError(f'Environment variable {name}={value!r} must be a number (e.g. {name}=1003520 '
                            f'or {name}="1280*28*28").') from None


@dataclass
class VisionSettings:
    """Resize settings of one run. `env` holds the environment variables that were set (names above)."""
    max_pixels: Optional[int] = None  # --max_pixels
    env: Dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_env(cls, max_pixels: Optional[int] = None,
                 environ: Optional[Mapping[str, str]] = None) -> 'VisionSettings':
        environ = os.environ if environ is None else environ
        for name in REFUSED_ENV:
            if environ.get(name):
                raise TemplateError(f'{name} is not supported here (transformers\' video processor has no such '
                                    'setting); unset it and bound videos with VIDEO_MAX_PIXELS / FPS_MAX_FRAMES.')
        values = {name: _env_number(environ, name, int) for name in INT_ENV}
        values.update({name: _env_number(environ, name, float) for name in FLOAT_ENV})
        if max_pixels is not None and max_pixels <= 0:
            raise TemplateError(f'--max_pixels must be a positive number of pixels, got {max_pixels}.')
        return cls(max_pixels, {k: v for k, v in values.items() if v is not None})

    @property
    def max_ratio(self) -> float:
        return self.env.get('MAX_RATIO', 200.)

    def prepare(self, image):
        """Check the aspect ratio and apply --max_pixels (before the model's processor)."""
        w, h = image.size
        if min(w, h) <= 0 or max(w, h) / min(w, h) > self.max_ratio:
            raise ImageError(f'Image of {w}x{h} has an aspect ratio above MAX_RATIO={self.max_ratio:g}.',
                             reason='image aspect ratio above MAX_RATIO')
        if self.max_pixels is not None and w * h > self.max_pixels:
            scale = (self.max_pixels / (w * h)) ** 0.5
            image = image.resize((max(1, int(w * scale)), max(1, int(h * scale))))
        return image

    def image_kwargs(self, image_processor) -> Dict[str, Any]:
        """Call kwargs of a Qwen2-VL-style image processor: its resize bounds from MIN/MAX_PIXELS."""
        factor = getattr(image_processor, 'patch_size', 14) * getattr(image_processor, 'merge_size', 2)
        if 'IMAGE_FACTOR' in self.env and self.env['IMAGE_FACTOR'] != factor:
            raise TemplateError(f'IMAGE_FACTOR={self.env["IMAGE_FACTOR"]} does not fit this model, whose vision '
                                f'tower needs sides that are multiples of {factor}; unset it or set {factor}.')
        size = dict(getattr(image_processor, 'size', None) or {})
        if 'MIN_PIXELS' in self.env:
            size['shortest_edge'] = self.env['MIN_PIXELS']
        if 'MAX_PIXELS' in self.env:
            size['longest_edge'] = self.env['MAX_PIXELS']
        if size.get('shortest_edge') and size.get('longest_edge') and size['shortest_edge'] > size['longest_edge']:
            raise TemplateError(f'MIN_PIXELS ({size["shortest_edge"]}) is above MAX_PIXELS ({size["longest_edge"]}).')
        return {'size': size} if size else {}

    def video_kwargs(self) -> Dict[str, Any]:
        """Call kwargs of a Qwen2-VL-style video processor."""
        out: Dict[str, Any] = {}
        size = {}
        if 'VIDEO_MIN_PIXELS' in self.env:
            size['shortest_edge'] = self.env['VIDEO_MIN_PIXELS']
        if 'VIDEO_MAX_PIXELS' in self.env:
            size['longest_edge'] = self.env['VIDEO_MAX_PIXELS']
        if size:
            out['size'] = size
        for env, key in (('FPS', 'fps'), ('FPS_MIN_FRAMES', 'min_frames'), ('FPS_MAX_FRAMES', 'max_frames')):
            if env in self.env:
                out[key] = self.env[env]
        return out
