"""Images and videos in chat requests: OpenAI content parts -> the canonical row (`<image>` / `<video>` tags in
the text, the decoded media in `images` / `videos`).

Accepted parts: {"type": "text"}, {"type": "image_url", "image_url": {"url": ...}} (OpenAI), {"type": "image",
"image": ...} (ms-swift), and the same for video_url / video. A url is a data URL, a local path or a file:// URL;
remote http(s) URLs are refused (this server does not fetch from the network). Every image is decoded here, so an
undecodable or over-large one answers 400 before the engine sees the request.
"""
import os
from typing import Any, Dict, List, Tuple
from urllib.parse import unquote, urlparse

from .server_protocol import OpenAIError

MEDIA = {'image': 'image', 'image_url': 'image', 'video': 'video', 'video_url': 'video'}
# PIL's decompression-bomb threshold (Image.MAX_IMAGE_PIXELS): larger images are refused, not decoded
MAX_IMAGE_PIXELS = 89_478_485


def split_media(messages: List[Any], max_bytes: int) -> Tuple[List[Any], List[Any], List[str]]:
    """Messages with content parts -> (messages with text content and tags, decoded images, video refs)."""
    images, videos, out = [], [], []
    for i, message in enumerate(messages):
        content = message.get('content') if isinstance(message, dict) else None
        if not isinstance(content, list) or all(_part_type(p) == 'text' for p in content):
            out.append(message)
            continue
        texts = []
        for j, part in enumerate(content):
            where = f'messages.{i}.content.{j}'
            kind = _part_type(part)
            if kind == 'text':
                texts.append(str(part.get('text') or ''))
            elif kind in MEDIA:
                ref = _reference(part, kind, where, max_bytes)
                if MEDIA[kind] == 'image':
                    images.append(decode_image(ref, where))
                    texts.append('<image>')
                else:
                    videos.append(ref)
                    texts.append('<video>')
            else:
                raise OpenAIError(400, f'`{where}`: unsupported content part type {kind!r}; use text, image_url '
                                  'or video_url.', param=where)
        out.append({**message, 'content': ''.join(texts)})
    return out, images, videos


def _part_type(part: Any) -> Any:
    return part.get('type') if isinstance(part, dict) else None


def _reference(part: Dict[str, Any], kind: str, where: str, max_bytes: int) -> str:
    value = part.get(kind)
    if isinstance(value, dict):
        value = value.get('url')
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
    """The decoded RGB image, or a 400 naming the part."""
    from PIL import Image
    from swift.template.vision import load_image
    try:
        image = load_image(ref)
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise OpenAIError(400, f'`{where}`: the image is {width}x{height} pixels, more than {MAX_IMAGE_PIXELS}; '
                              'send a smaller image.', param=where)
        image.load()
    except OpenAIError:
        raise
    except (Exception, Image.DecompressionBombWarning) as e:  # noqa: BLE001 - any decoder failure is bad input
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise OpenAIError(400, f'`{where}`: the image cannot be decoded ({reason}).', param=where) from None
    return image


def request_media(req, images: List[Any], videos: List[str], max_bytes: int) -> Tuple[List[Any], List[str]]:
    """ms-swift's top-level `images` / `videos` fields (for `<image>` tags written in the text), or the content
    parts' media: not both, whose order would be a guess."""
    if (req.images and images) or (req.videos and videos):
        raise OpenAIError(400, 'Send media either as content parts or in the top-level `images` / `videos` '
                          'fields, not both.', param='images' if req.images and images else 'videos')
    head_images = [decode_image(_reference({'image': ref}, 'image', f'images.{i}', max_bytes), f'images.{i}')
                   for i, ref in enumerate(req.images or [])]
    head_videos = [_reference({'video': ref}, 'video', f'videos.{i}', max_bytes)
                   for i, ref in enumerate(req.videos or [])]
    return head_images + images, head_videos + videos
