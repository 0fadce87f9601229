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
        import torch
        from swift.template.multimodal import collate_media
        out = self.base(examples)
        collate_media(list(examples) * 2, out, 'right', with_types=False)
        processor = self.template.processor
        if 'image_grid_thw' in out or 'video_grid_thw' in out:
            out['mm_token_type_ids'] = torch.tensor(processor.create_mm_token_type_ids(out['input_ids'].tolist()))
        return out


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
