"""Batch padding for encoded rows."""
from typing import Any, Dict, List, Optional

import torch


def _pad(rows: List[list], value, side: str, length: int) -> List[list]:
    if side == 'left':
        return [[value] * (length - len(r)) + list(r) for r in rows]
    return [list(r) + [value] * (length - len(r)) for r in rows]


def _loss_scale_of(row: Dict[str, Any]) -> List[float]:
    if row.get('loss_scale') is not None:
        return row['loss_scale']
    return [0. if label == -100 else 1. for label in row['labels']]


def pad_batch(batch: List[Dict[str, Any]], pad_token_id: int, side: str,
              padding_to: Optional[int] = None) -> Dict[str, torch.Tensor]:
    """input_ids/attention_mask (+ labels, + loss_scale when any row has one) as tensors of one length."""
    if not batch:
        raise ValueError('data_collator got an empty batch.')
    length = max(len(row['input_ids']) for row in batch)
    if padding_to is not None:
        length = max(length, padding_to)
    ids = [row['input_ids'] for row in batch]
    out = {
        'input_ids': torch.tensor(_pad(ids, pad_token_id, side, length), dtype=torch.long),
        'attention_mask': torch.tensor(_pad([[1] * len(r) for r in ids], 0, side, length), dtype=torch.long),
    }
    if all(row.get('labels') is not None for row in batch):
        out['labels'] = torch.tensor(_pad([row['labels'] for row in batch], -100, side, length), dtype=torch.long)
        if any(row.get('loss_scale') is not None for row in batch):
            scales = [_loss_scale_of(row) for row in batch]
            out['loss_scale'] = torch.tensor(_pad(scales, 0., side, length), dtype=torch.float32)
    return out
