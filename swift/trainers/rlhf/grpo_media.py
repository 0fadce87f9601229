"""The images of a GRPO batch, encoded by our template (trl's own VLM path re-renders prompts with the HF
processor's chat template, which our template replaces).

`PromptMedia(template, rows)` encodes each row's prompt with its images once per generation batch: the prompt ids
(vision tokens expanded by the processor), the processor's tensors for `generate`, and the same tensors plus
`num_images` and mm_token_type_ids for the log-prob forward passes, in the layout trl's GRPOTrainer slices per
micro-batch (`_get_per_token_logps_and_entropies`) and splits per sample (`split_pixel_values_by_grid`)."""
from typing import Any, Dict, List

import torch

from swift.template.multimodal import collate_media, media_list

MEDIA_COLUMNS = ('images', 'videos')


def has_media(rows: List[Dict[str, Any]]) -> bool:
    return any(media_list(row, 'images') or media_list(row, 'videos') for row in rows)


class PromptMedia:
    """Prompt encodings of one generation batch (rows in trl's order: each prompt repeated per generation)."""

    def __init__(self, template, rows: List[Dict[str, Any]]):
        self.template, self.rows = template, rows
        cache: Dict[str, Dict[str, Any]] = {}  # trl repeats each row num_generations times: encode it once
        encoded = []
        for row in rows:
            key = repr((row['prompt'], media_list(row, 'images')))
            if key not in cache:
                cache[key] = template.encode({'messages': row['prompt'], 'images': media_list(row, 'images')},
                                             mode='infer')
            encoded.append(cache[key])
        self.prompt_ids = [e['input_ids'] for e in encoded]
        self.num_images = [len(media_list(row, 'images')) for row in rows]
        self.tensors = collate_media(encoded, {}, 'left', with_types=False)
        # Qwen-style models need mm_token_type_ids (M-RoPE positions); the DPO collator makes the same choice
        self.typed = 'image_grid_thw' in self.tensors
        self._types = [e['mm_token_type_ids'] for e in encoded] if self.typed else None

    def generate_fields(self) -> Dict[str, Any]:
        """Extra inputs of `model.generate` (trl left-pads the per-token lists like the prompt ids)."""
        fields = dict(self.tensors)
        if self.typed:
            fields['mm_token_type_ids'] = self._types
        return fields

    def forward_kwargs(self, input_ids: torch.Tensor, logits_to_keep: int) -> Dict[str, Any]:
        """Media inputs of a forward over `input_ids` (prompt + completion, this batch's rows in order)."""
        out: Dict[str, Any] = {k: v.to(input_ids.device) for k, v in self.tensors.items()}
        out['num_images'] = list(self.num_images)
        if self.typed:
            out['mm_token_type_ids'] = self.token_types(input_ids, logits_to_keep)
        return out

    def token_types(self, input_ids: torch.Tensor, logits_to_keep: int) -> torch.Tensor:
        """The processor's mm_token_type_ids of the prompt part; completion tokens are text (trl's rule)."""
        prompt = input_ids[:, :input_ids.size(1) - logits_to_keep]
        types = torch.tensor(self.template.processor.create_mm_token_type_ids(prompt.tolist()),
                             dtype=torch.long, device=input_ids.device)
        return torch.cat([types, types.new_zeros((types.size(0), logits_to_keep))], dim=1)


def chunk_media(media: Dict[str, Any], start: int, end: int) -> Dict[str, Any]:
    """The media inputs of rows [start, end) of a batch (none at all for rows without images)."""
    num_images = media['num_images']
    first, last = sum(num_images[:start]), sum(num_images[:end])
    out = {k: media[k][start:end] for k in ('mm_token_type_ids', 'token_type_ids') if media.get(k) is not None}
    if first == last:
        return out
    grid = media.get('image_grid_thw')
    if grid is not None:  # pixel_values: rows of patches, grid t*h*w of them per image
        patches = grid.prod(-1).tolist()
        out['pixel_values'] = media['pixel_values'][sum(patches[:first]):sum(patches[:last])]
        out['image_grid_thw'] = grid[first:last]
    else:  # one pixel_values entry per image (LLaVA)
        out['pixel_values'] = media['pixel_values'][first:last]
    out['num_images'] = num_images[start:end]
    return out


def media_token_ids(template) -> List[int]:
    """Vision placeholder tokens: never sampled (a sampled one would not match the image features)."""
    processor = getattr(template, 'processor', None)
    return sorted({i for i in (getattr(processor, 'image_token_id', None),
                               getattr(processor, 'video_token_id', None)) if isinstance(i, int)})
