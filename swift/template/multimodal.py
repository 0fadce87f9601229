"""VisionTemplate: the Template of a vision-language model (images and videos of a canonical row).

A canonical row may carry `images` / `videos` (lists of references, see vision.py) and `<image>` / `<video>` tags
in its message text marking where each goes; without tags the media go before the first user text (ms-swift's
rule). The text is rendered with one placeholder per medium (`image_placeholder`, holding the processor's image
token once), tokenized like any row, and then every image token is expanded into the tokens the model's
transformers processor asks for (`processor.replace_image_token`), so the count is never computed here.
Encoded rows carry the processor's tensors (pixel_values, image_grid_thw, ...) and mm_token_type_ids.
"""
import re
from typing import Any, Dict, List, Optional, Tuple

import torch

from swift.utils import TemplateError

from .base import Template
from .vision import ImageError, VisionSettings, load_image

IMAGE_TAG, VIDEO_TAG = '<image>', '<video>'
_TAGS = re.compile(r'<image>|<video>')
# Keys a VisionTemplate adds to an encoded row; the collator concatenates them over the batch.
MEDIA_KEYS = ('pixel_values', 'image_grid_thw', 'pixel_values_videos', 'video_grid_thw', 'second_per_grid_ts')


def media_list(row: Dict[str, Any], key: str) -> List[Any]:
    value = row.get(key)
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def place_media(messages: List[dict], n_images: int, n_videos: int) -> List[dict]:
    """Messages whose `<image>`/`<video>` tags match the row's media: untagged media are put in front of the first
    user message; a tag count that differs from the media count is a row error."""
    text = ''.join(m.get('content') or '' for m in messages if isinstance(m.get('content'), str))
    counts = {IMAGE_TAG: text.count(IMAGE_TAG), VIDEO_TAG: text.count(VIDEO_TAG)}
    prefix = ''
    for tag, n in ((IMAGE_TAG, n_images), (VIDEO_TAG, n_videos)):
        if counts[tag] == 0 and n:
            prefix += tag * n
        elif counts[tag] != n:
            raise ImageError(f'the row has {counts[tag]} {tag} tags but {n} {tag[1:-1]}s; give one tag per '
                             f'{tag[1:-1]} or none (then they go before the first user text)',
                             reason='media tag count mismatch')
    if not prefix:
        return messages
    out, placed = [], False
    for m in messages:
        if not placed and m.get('role') == 'user':
            m, placed = {**m, 'content': prefix + (m.get('content') or '')}, True
        out.append(m)
    if not placed:
        raise ImageError('the row has images or videos but no user message to put them in',
                         reason='media without a user message')
    return out


class VisionTemplate(Template):
    """Template of a model with a transformers processor (`tokenizer.processor`). Families set the two
    placeholders (what a tag becomes in the text); the image/video token inside each is expanded by the processor."""
    image_placeholder = IMAGE_TAG
    video_placeholder = VIDEO_TAG

    def __init__(self, tokenizer, *args, **kwargs):
        super().__init__(tokenizer, *args, **kwargs)
        self.processor = getattr(tokenizer, 'processor', None)  # None: a bare tokenizer, text rows only
        if self.template_backend == 'jinja':
            raise TemplateError('--template_backend jinja renders text only; multimodal templates need the swift '
                                'backend (drop --template_backend).')
        self.vision = VisionSettings.from_env(self.max_pixels)

    # ----- text -----
    def _media_messages(self, row: Dict[str, Any], messages: List[dict]) -> List[dict]:
        messages = place_media(messages, len(media_list(row, 'images')), len(media_list(row, 'videos')))
        placeholders = {IMAGE_TAG: self.image_placeholder, VIDEO_TAG: self.video_placeholder}
        return [{**m, 'content': _TAGS.sub(lambda t: placeholders[t.group(0)], m['content'])}
                if isinstance(m.get('content'), str) else m for m in messages]

    # ----- tokens -----
    def _encode_media(self, row: Dict[str, Any], input_ids: List[int], runs: List[Tuple[int, float]]):
        images, videos = media_list(row, 'images'), media_list(row, 'videos')
        if self.processor is None:
            if images or videos:
                raise TemplateError(f'Template {self.template_meta.template_type!r} got a tokenizer without the '
                                    'model\'s processor; load it with swift.model.get_model_tokenizer.')
            return input_ids, runs, {}
        extra: Dict[str, Any] = {}
        replacements: Dict[int, List[List[int]]] = {}
        if images:
            processed = self._process_images(images)
            extra.update(processed)
            replacements[self.processor.image_token_id] = [
                self._ids(self.processor.replace_image_token(processed, image_idx=i)) for i in range(len(images))]
        if videos:
            processed = self._process_videos(videos)
            extra.update(processed)
            replacements[self.processor.video_token_id] = [
                self._ids(self.processor.replace_video_token(processed, video_idx=i)) for i in range(len(videos))]
        input_ids, weights = _expand(input_ids, [w for count, w in runs for _ in range(count)], replacements)
        extra['mm_token_type_ids'] = self.processor.create_mm_token_type_ids([input_ids])[0]
        return input_ids, _runs(weights), extra

    def _ids(self, text: str) -> List[int]:
        return self.tokenizer(text, add_special_tokens=False)['input_ids']

    def load_images(self, images: List[Any]) -> list:
        """PIL images after the aspect-ratio check and --max_pixels (what --dry_run reports)."""
        return [self.vision.prepare(load_image(ref)) for ref in images]

    def _process_images(self, images: List[Any]) -> Dict[str, torch.Tensor]:
        kwargs = self.vision.image_kwargs(self.processor.image_processor)
        out = self.processor.image_processor(self.load_images(images), return_tensors='pt', **kwargs)
        return {k: v for k, v in out.items() if k in MEDIA_KEYS}

    def _process_videos(self, videos: List[Any]) -> Dict[str, torch.Tensor]:
        video_processor = getattr(self.processor, 'video_processor', None)
        if video_processor is None:
            raise ImageError('videos need torchvision (transformers\' video processors are torchvision code); '
                             'pip install torchvision matching your torch, or drop the videos column',
                             reason='videos need torchvision')
        frames = [[self.vision.prepare(load_image(f)) for f in v] if isinstance(v, (list, tuple)) else v
                  for v in videos]
        out = video_processor(videos=frames, return_tensors='pt', **self.vision.video_kwargs())
        return {k: v for k, v in out.items() if k in MEDIA_KEYS}

    # ----- what --dry_run shows -----
    def render_example(self, encoded: Dict[str, Any], color: Optional[bool] = None) -> str:
        """The decoded example with each run of vision tokens written once with its count (<|image_pad|>*4)."""
        text = super().render_example(encoded, color)
        for token in {getattr(self.processor, 'image_token', None), getattr(self.processor, 'video_token', None)}:
            if token:
                text = re.sub(f'(?:{re.escape(token)}){{2,}}', lambda m: f'{token}*{len(m.group(0)) // len(token)}',
                              text)
        return text

    def media_summary(self, encoded: Dict[str, Any]) -> List[str]:
        """One line per image/video of an encoded row: its token span and its size after the processor's resize."""
        lines = []
        for kind, token_id, grid_key in (('image', 'image_token_id', 'image_grid_thw'),
                                         ('video', 'video_token_id', 'video_grid_thw')):
            grids = encoded.get(grid_key)
            if grids is None or self.processor is None:
                continue
            spans = _runs(list(encoded['input_ids']), getattr(self.processor, token_id))
            sub = self.processor.image_processor if kind == 'image' else self.processor.video_processor
            patch = getattr(sub, 'patch_size', None) or 1
            for i, ((start, end), (t, h, w)) in enumerate(zip(spans, _as_tensor(grids).tolist()), 1):
                frames = f'{t * getattr(sub, "temporal_patch_size", 1)} frames, ' if kind == 'video' else ''
                lines.append(f'{kind} {i}: {end - start} tokens at positions {start}..{end - 1}, resized to '
                             f'{w * patch}x{h * patch} px ({frames}grid {t}x{h}x{w} of {patch}px patches)')
        return lines

    def data_collator(self, batch: List[Dict[str, Any]], padding_to: Optional[int] = None) -> Dict[str, Any]:
        out = super().data_collator(batch, padding_to)
        side = 'left' if self.mode == 'infer' else self.padding_side
        return collate_media(batch, out, side)


def _runs(ids: List[int], token_id: int) -> List[Tuple[int, int]]:
    """[start, end) of each maximal run of `token_id` in `ids`."""
    runs, start = [], None
    for i, tok in enumerate(ids + [None]):
        if tok == token_id and start is None:
            start = i
        elif tok != token_id and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _expand(input_ids: List[int], weights: List[float],
            replacements: Dict[int, List[List[int]]]) -> Tuple[List[int], List[float]]:
    """Replace the k-th occurrence of each media token id with replacements[id][k] (no loss on them)."""
    if not replacements:
        return input_ids, weights
    iters = {token: iter(values) for token, values in replacements.items()}
    used = dict.fromkeys(replacements, 0)
    ids_out, weights_out = [], []
    for token, weight in zip(input_ids, weights):
        if token in iters:
            value = next(iters[token], None)
            if value is None:
                raise ImageError('the text holds more image/video tokens than the row has media (do not write '
                                 '<|image_pad|> yourself: use <image> tags)', reason='media tag count mismatch')
            used[token] += 1
            ids_out += value
            weights_out += [0.] * len(value)
        else:
            ids_out.append(token)
            weights_out.append(weight)
    if any(used[t] != len(v) for t, v in replacements.items()):
        raise ImageError('the rendered text lost some image/video placeholders', reason='media tag count mismatch')
    return ids_out, weights_out


def _runs(weights: List[float]) -> List[Tuple[int, float]]:
    """Per-token weights, run-length coded (the template's `Runs`)."""
    out: List[Tuple[int, float]] = []
    for w in weights:
        if out and out[-1][1] == w:
            out[-1] = (out[-1][0] + 1, w)
        else:
            out.append((1, w))
    return out


def _as_tensor(value, dtype=None) -> torch.Tensor:
    return value if isinstance(value, torch.Tensor) else torch.tensor(value, dtype=dtype)


def collate_media(batch: List[Dict[str, Any]], out: Dict[str, Any], side: str,
                  with_types: bool = True) -> Dict[str, Any]:
    """Concatenate the media tensors of the rows (in row order) and pad mm_token_type_ids like input_ids."""
    for key in MEDIA_KEYS:
        values = [row[key] for row in batch if row.get(key) is not None]
        if values:
            dtype = torch.float32 if key.startswith('pixel') or key == 'second_per_grid_ts' else torch.long
            out[key] = torch.cat([_as_tensor(v, dtype) for v in values], dim=0)
    if with_types and any(row.get('mm_token_type_ids') is not None for row in batch):
        width = out['input_ids'].shape[1]
        rows = []
        for row in batch:
            types = list(row.get('mm_token_type_ids') or [0] * len(row['input_ids']))
            pad = [0] * (width - len(types))
            rows.append(pad + types if side == 'left' else types + pad)
        out['mm_token_type_ids'] = torch.tensor(rows, dtype=torch.long)
    return out
