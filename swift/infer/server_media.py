"""Images and videos in chat requests: OpenAI content parts -> the canonical row (`<image>` / `<video>` tags in
the text, the decoded media in `images` / `videos`).

Accepted parts (read by swift/dataset/media.py, as in data files): {"type": "text"}, {"type": "image_url",
"image_url": {"url": ...}} (OpenAI), {"type": "image", "image": ...} (ms-swift), and the same for video_url / video.
A url is a data URL, a local path or a file:// URL; remote http(s) URLs are refused (this server does not fetch
from the network). Every image is decoded here, so an
undecodable or over-large one answers 400 before the engine sees the request.
"""
import os
from typing import Any, List, Tuple
from urllib.parse import unquote, urlparse

from .server_protocol import OpenAIError

# PIL's decompression-bomb threshold (Image.MAX_IMAGE_PIXELS): larger images are refused, not decoded
MAX_IMAGE_PIXELS = 89_478_485


def split_media(messages: List[Any], max_bytes: int) -> Tuple[List[Any], List[Any], List[str]]:
    """Messages with content parts -> (messages with text content and tags, decoded images, video refs). The parts
    are read by the dataset layer (as in data files); the server checks and decodes each reference."""
    from swift.dataset.media import content_parts_text
    images, videos, out = [], [], []
    for i, message in enumerate(messages):
        content = message.get('content') if isinstance(message, dict) else None
        if not isinstance(content, list):
            out.append(message)
            continue
        media = []
        try:
            text = content_parts_text(content, media)
        except Exception as e:  # noqa: BLE001 - RowError: one line saying what is wrong with the part
            raise OpenAIError(400, f'messages[{i}]: {e}.', param=f'messages.{i}') from None
        slots = [j for j, p in enumerate(content) if p.get('type') != 'text' and 'text' not in p]
        for (kind, ref), j in zip(media, slots):
            where = f'messages.{i}.content.{j}'
            ref = _reference(ref, kind, where, max_bytes)
            if kind == 'image':
                images.append(decode_image(ref, where))
            else:
                videos.append(ref)
        out.append({**message, 'content': text})
    return out, images, videos


def _reference(value: Any, kind: str, where: str, max_bytes: int) -> str:
    if not isinstance(value, str) or not value:
        raise OpenAIError(400, f'`{where}`: {kind} needs a url (a data URL or a local path).', param=where)
    if value.startswith(('http://', 'https://')):
        raise OpenAIError(400, f'`{where}`: remote URLs are not fetched (this server works offline); send the '
                          'image as a data URL (data:image/png;base64,...) or a local path.', param=where)
    if value.startswith('file://'):
        value = unquote(urlparse(value).path)
    if not value.startswith('data:'):
        if not os.path.isfile(value):
            raise OpenAIError(400, f'`{where}`: no such file {value!r:.200} on the server.', param=where)
        if os.path.getsize(value) > max_bytes:
            raise OpenAIError(413, f'`{where}`: the file {value!r:.200} is larger than the server\'s limit of '
                              f'{max_bytes} bytes (--max_request_bytes).', param=where, code='request_too_large')
    return value


def decode_image(ref: str, where: str):
    """The decoded RGB image, or a 400 naming the part; the size is checked from the header, before decoding."""
    from swift.template.vision import load_image
    try:
        _check_pixels(ref, where)
        return load_image(ref)
    except OpenAIError:
        raise
    except Exception as e:  # noqa: BLE001 - any decoder failure is bad input
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise OpenAIError(400, f'`{where}`: the image cannot be decoded ({reason.rstrip(".")}).', param=where) from None


def _check_pixels(ref: str, where: str) -> None:
    import base64
    import io
    from PIL import Image
    data = base64.b64decode(ref.split(',', 1)[1]) if ref.startswith('data:') else None
    try:
        with Image.open(io.BytesIO(data) if data is not None else ref) as image:  # reads the header only
            pixels = image.size[0] * image.size[1]
    except Image.DecompressionBombError:  # PIL's own refusal, at twice the limit
        pixels = None
    if pixels is None or pixels > MAX_IMAGE_PIXELS:
        raise OpenAIError(400, f'`{where}`: the image has more than {MAX_IMAGE_PIXELS} pixels; send a smaller '
                          'image.', param=where)


def request_media(req, images: List[Any], videos: List[str], max_bytes: int) -> Tuple[List[Any], List[str]]:
    """ms-swift's top-level `images` / `videos` fields (for `<image>` tags written in the text), or the content
    parts' media: not both, whose order would be a guess."""
    if (req.images and images) or (req.videos and videos):
        raise OpenAIError(400, 'Send media either as content parts or in the top-level `images` / `videos` '
                          'fields, not both.', param='images' if req.images and images else 'videos')
    head_images = [decode_image(_reference(ref, 'image', f'images.{i}', max_bytes), f'images.{i}')
                   for i, ref in enumerate(req.images or [])]
    head_videos = [_reference(ref, 'video', f'videos.{i}', max_bytes) for i, ref in enumerate(req.videos or [])]
    return head_images + images, head_videos + videos
