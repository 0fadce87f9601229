"""Causal-LM loss with per-token weights (`loss_scale`) and token/sequence accuracy, both on shifted logits."""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F

from swift.plugin.loss import loss_funcs

IGNORE_INDEX = -100


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor, loss_scale: Optional[torch.Tensor] = None,
                   num_items_in_batch: Union[None, int, torch.Tensor] = None) -> torch.Tensor:
    """Sum of per-token cross entropy (times `loss_scale`) over label tokens, divided like transformers'
    ForCausalLMLoss: by `num_items_in_batch` (label tokens in the whole accumulated batch) when given, else by the
    label tokens of this batch."""
    logits = logits[:, :-1].float()
    labels = labels[:, 1:].to(logits.device)
    token_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                 ignore_index=IGNORE_INDEX, reduction='none')
    if loss_scale is not None:
        token_loss = token_loss * loss_scale[:, 1:].reshape(-1).to(token_loss)
    if num_items_in_batch is None:
        num_items_in_batch = labels.ne(IGNORE_INDEX).sum().clamp(min=1)
    if torch.is_tensor(num_items_in_batch):
        num_items_in_batch = num_items_in_batch.to(token_loss.device)
    return token_loss.sum() / num_items_in_batch


@torch.no_grad()
def accuracy_counts(logits: torch.Tensor, labels: torch.Tensor,
                    strategy: str = 'token') -> Tuple[torch.Tensor, torch.Tensor]:
    """(correct, total) as scalar tensors: label tokens predicted right by argmax, or sequences whose label tokens
    are all right."""
    preds = logits[:, :-1].argmax(-1)
    labels = labels[:, 1:].to(preds.device)
    mask = labels.ne(IGNORE_INDEX)
    right = preds.eq(labels) & mask
    if strategy == 'seq':
        has_labels = mask.any(-1)
        seq_right = (right.sum(-1) == mask.sum(-1)) & has_labels
        return seq_right.sum(), has_labels.sum()
    return right.sum(), mask.sum()


def check_loss_type(loss_type: Optional[str]):
    """The loss function `--loss_type` names (a built-in or an --external_plugins entry); None: the model's own."""
    if not loss_type:
        return None
    return loss_funcs.get(loss_type)


def cross_entropy(outputs, labels, loss_scale=None, num_items_in_batch=None):
    """Shifted token cross entropy weighted by loss_scale (what `swift sft` computes without --loss_type)."""
    return causal_lm_loss(outputs.logits, labels, loss_scale, num_items_in_batch)


loss_funcs['cross_entropy'] = cross_entropy
