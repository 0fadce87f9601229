"""Images and videos of dataset rows.

The canonical row keeps its media in `images` / `videos` columns (lists of references, see
swift/template/vision.py) with `<image>` / `<video>` tags in the text marking where each goes. Here:
- OpenAI content parts (`{"type": "image_url", "image_url": {"url": ...}}`, `{"type": "image", "image": ...}`,
  `video_url` / `video`, `{"type": "text", "text": ...}`) become text with tags plus the columns;
- every reference is checked while loading (a missing, remote or unreadable image is a counted RowError with its
  file:line, never a crash mid-epoch); relative paths are resolved as given, else under the data file's folder.
"""
import os
from typing import Any, Dict, List, Optional, Tuple

from swift.template.vision import ImageError, check_image

from .report import RowError

MEDIA_COLUMNS = ('images', 'videos')
_PART_KINDS = {'image_url': 'image', 'image': 'image', 'input_image': 'image', 'video_url': 'video', 'video': 'video'}
Media = List[Tuple[str, Any]]  # (kind, reference) in the order they appear


def _part_ref(part: Dict[str, Any], kind: str) -> Any:
    value = next((part[k] for k in (part.get('type'), kind, f'{kind}_url') if k and part.get(k) is not None), None)
    if isinstance(value, dict):  # {"url": ...} (OpenAI), or a datasets.Image {"bytes", "path"}
        value = value.get('url', value)
    if value is None:
        raise RowError(f'{kind} content part without a {kind}')
    return value


def content_parts_text(parts: List[Any], media: Optional[Media]) -> str:
    """Text of OpenAI content parts; media parts become <image>/<video> tags and are appended to `media`."""
    text = []
    for part in parts:
        if not isinstance(part, dict):
            raise RowError('content part is not an object')
        kind = _PART_KINDS.get(part.get('type'))
        if part.get('type') == 'text' or (kind is None and 'text' in part):
            text.append(str(part.get('text') or ''))
        elif kind is not None and media is not None:
            media.append((kind, _part_ref(part, kind)))
            text.append(f'<{kind}>')
        else:
            raise RowError(f'unsupported content part {part.get("type")!r}')
    return ''.join(text)


def _column(row: Dict[str, Any], key: str) -> List[Any]:
    value = row.get(key)
    if value is None or value == '':
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def merge_part_media(row: Dict[str, Any], media: Media) -> None:
    """Put the media of content parts into the row's columns (a row may use parts or columns, not both)."""
    for kind in ('image', 'video'):
        refs = [ref for k, ref in media if k == kind]
        if refs and _column(row, f'{kind}s'):
            raise RowError(f'{kind}s both in content parts and in the {kind}s column')
        if refs:
            row[f'{kind}s'] = refs


def check_media(row: Dict[str, Any], root: Optional[str] = None) -> Dict[str, Any]:
    """The row with its images checked and normalised (relative paths resolved against `root`); videos given as
    frame lists are checked frame by frame, video files only for existence of the reference."""
    for key in MEDIA_COLUMNS:
        if key not in row:
            continue
        refs = _column(row, key)
        try:
            if key == 'images':
                refs = [check_image(ref, root) for ref in refs]
            else:
                refs = [[check_image(f, root) for f in ref] if isinstance(ref, (list, tuple)) else
                        _check_video_file(ref, root) for ref in refs]
        except ImageError as error:
            raise RowError(error.reason, detail=str(error)) from None
        row[key] = refs
    return row


def _check_video_file(ref: Any, root: Optional[str]) -> Any:
    if not isinstance(ref, str):
        raise ImageError(f'A video must be a path or a list of frames, got {type(ref).__name__}.',
                         reason='not a video reference')
    if ref.startswith(('http://', 'https://')):
        raise ImageError(f'Video URL {ref[:80]} is remote and this toolkit works offline; give a local path.',
                         reason='remote video URL')
    for path in (os.path.expanduser(ref), os.path.join(root or '', ref)):
        if os.path.isfile(path):
            return os.path.abspath(path) if path != ref else ref
    raise ImageError(f'Video file {ref!r} does not exist.', reason='missing video')
