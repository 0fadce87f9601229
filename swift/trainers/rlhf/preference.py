"""Thin subclasses over trl's offline preference trainers. Datasets arrive already encoded by our template (see
swift/template/rlhf.py), so each subclass only skips trl's own prompt extraction and tokenisation."""
import warnings

with warnings.catch_warnings():  # CPO/ORPO live in trl.experimental (trl >= 1.0)
    warnings.simplefilter('ignore')
    from trl.experimental.cpo import CPOTrainer as HfCPOTrainer
    from trl.experimental.orpo import ORPOTrainer as HfORPOTrainer
from trl import DPOTrainer as HfDPOTrainer
from trl import KTOTrainer as HfKTOTrainer
from trl import RewardTrainer as HfRewardTrainer

from .mixin import SwiftMixin


class MediaPreferenceCollator:
    """trl's preference collator plus the prompts' images: trl stacks every chosen sequence, then every rejected
    one, so each row's media tensors appear twice in that order; mm_token_type_ids come from the processor."""

    def __init__(self, base, template):
        self.base, self.template = base, template

    def __call__(self, examples):
        from swift.template.multimodal import collate_media
        out = self.base(examples)
        collate_media(list(examples) * 2, out, 'right', with_types=False)
        add_token_types(self.template, out, '')
        return out


class MediaKTOCollator(MediaPreferenceCollator):
    """trl's unpaired collator plus the prompts' images, once per row: a row's KL sequence (its prompt with a
    neighbour's completion) shows the same images, so only its mm_token_type_ids differ."""

    def __call__(self, examples):
        from swift.template.multimodal import collate_media
        out = self.base(examples)
        collate_media(list(examples), out, 'right', with_types=False)
        for prefix in ('', 'KL_'):
            add_token_types(self.template, out, prefix)
        return out


def add_token_types(template, out, prefix: str) -> None:
    """`{prefix}mm_token_type_ids` of `{prefix}input_ids` from the processor (Qwen-style models, which need them
    for M-RoPE positions)."""
    import torch
    if f'{prefix}input_ids' in out and ('image_grid_thw' in out or 'video_grid_thw' in out):
        ids = out[f'{prefix}input_ids'].tolist()
        out[f'{prefix}mm_token_type_ids'] = torch.tensor(template.processor.create_mm_token_type_ids(ids))


class DPOTrainer(SwiftMixin, HfDPOTrainer):
    """Rows: prompt_ids, chosen_ids, rejected_ids (trl's processed format)."""

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
        return dataset


class RewardTrainer(SwiftMixin, HfRewardTrainer):
    """Rows: chosen_ids, rejected_ids (prompt + completion each)."""

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
        return dataset


class KTOTrainer(SwiftMixin, HfKTOTrainer):
    """Rows: prompt_ids, completion_ids, label; the KL completions are added as trl does (rotated by one within
    each batch)."""

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
        if not self.calculate_KL:
            return dataset

        def add_kl_completion_ids(batch):
            batch['KL_completion_ids'] = batch['completion_ids'][-1:] + batch['completion_ids'][:-1]
            return batch
        return dataset.map(add_kl_completion_ids, batched=True, batch_size=args.per_device_train_batch_size)


class _PairedLegacyMixin:
    """CPO/ORPO tokenise rows in `tokenize_row`; our rows already carry its output columns."""

    def tokenize_row(self, feature, model=None):
        return feature


class CPOTrainer(SwiftMixin, _PairedLegacyMixin, HfCPOTrainer):
    """CPO and SimPO (loss_type='simpo')."""


class ORPOTrainer(SwiftMixin, _PairedLegacyMixin, HfORPOTrainer):
    pass
