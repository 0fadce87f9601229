"""Packing: first-fit-decreasing bins, and a packed row computes exactly what each sample computes alone."""
import pytest
import torch
from transformers import AutoModelForCausalLM

from swift.model.tiny import get_tiny_model_dir
from swift.template.packing import IterablePackedDataset, PackedDataset, PackingCollator, pack_lengths
from swift.trainers.loss import causal_lm_loss
from ._utils import random_rows


def test_first_fit_decreasing():
    bins = pack_lengths([5, 3, 8, 2, 7, 1], 10)
    assert sorted(i for b in bins for i in b) == list(range(6))
    assert all(sum([5, 3, 8, 2, 7, 1][i] for i in b) <= 10 for b in bins)
    assert bins == [[2, 3], [4, 1], [0, 5]]  # 8+2, 7+3, 5+1: first fit in decreasing order


def test_oversized_sample_gets_own_pack():
    assert pack_lengths([12, 3], 10) == [[0], [1]]


def _samples():
    rows = random_rows(0, (7, 12, 5, 9), prompt=3, loss_scale=None)
    return [{**r, 'length': len(r['input_ids'])} for r in rows]


@pytest.mark.parametrize('attn', ['sdpa', 'eager'])
def test_packed_equals_separate(attn):
    model = AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-qwen2'), dtype=torch.float32,
                                                 attn_implementation=attn).eval()
    rows = _samples()
    packs = PackedDataset(rows, max_length=20)
    assert len(packs) == 2
    batch = PackingCollator(pad_token_id=0)([packs[0], packs[1]])
    assert batch.pop('num_tokens') == sum(r['length'] for r in rows)
    with torch.no_grad():
        packed = model(**batch, use_cache=False).logits
    for row_idx, pack in enumerate(packs.packs):
        start = 0
        for i in pack:
            ids = torch.tensor([rows[i]['input_ids']])
            labels = torch.tensor([rows[i]['labels']])
            with torch.no_grad():
                alone = model(input_ids=ids, use_cache=False).logits
            n = ids.shape[1]
            part = packed[row_idx:row_idx + 1, start:start + n]
            torch.testing.assert_close(part, alone, atol=1e-4, rtol=0)
            loss_alone = causal_lm_loss(alone, labels)
            loss_part = causal_lm_loss(part, batch['labels'][row_idx:row_idx + 1, start:start + n])
            assert abs(loss_alone.item() - loss_part.item()) < 1e-4
            start += n


def test_iterable_packing_keeps_every_sample():
    rows = _samples() * 3
    packs = list(IterablePackedDataset(rows, max_length=20, buffer_size=5, seed=0))
    assert sum(len(p) for p in packs) == len(rows)
    assert all(sum(len(s['input_ids']) for s in p) <= 20 for p in packs)
