"""Packing image rows: per-sample attention and per-sample 3D (M-RoPE) positions, checked against single rows."""
import torch
from PIL import Image

from swift.template import get_template
from swift.template.packing import PackingCollator


def _rows():
    red, blue = Image.new('RGB', (56, 56), 'red'), Image.new('RGB', (56, 84), 'blue')
    return [{'messages': [{'role': 'user', 'content': '<image>Shape?'}, {'role': 'assistant', 'content': 'A square.'}],
             'images': [red]},
            {'messages': [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello there.'}]},
            {'messages': [{'role': 'user', 'content': 'Two: <image> and <image>'},
                          {'role': 'assistant', 'content': 'Blue, red.'}], 'images': [blue, red]}]


def test_packed_logits_equal_each_sample_alone(vl_model_tokenizer):
    model, tok = vl_model_tokenizer
    model.eval()
    template = get_template('qwen2_vl', tok)
    encoded = [template.encode(r) for r in _rows()]
    batch = PackingCollator.from_template(template)([encoded])
    assert batch['position_ids'].shape == (4, 1, sum(len(e['input_ids']) for e in encoded))
    assert batch['pixel_values'].shape[0] == sum(e['pixel_values'].shape[0] for e in encoded if 'pixel_values' in e)
    batch.pop('num_tokens')
    with torch.no_grad():
        packed = model(**batch, use_cache=False).logits[0]
        start = 0
        for e in encoded:
            alone = model(**template.data_collator([e])).logits[0]
            n = len(e['input_ids'])
            assert torch.allclose(packed[start:start + n], alone, atol=1e-4), start
            start += n
    # The loss of a pack trains: one optimisation step lowers it.
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    losses = []
    for _ in range(2):
        loss = model(**batch, use_cache=False).loss
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    assert losses[1] < losses[0]
