"""Show a trained vision-language checkpoint drawn shapes and print its answers (greedy).

usage: python examples/ask_vl.py <output_dir or checkpoint> colour:shape [colour:shape ...]
e.g.   python examples/ask_vl.py output/demo_vl red:circle blue:square
The images are drawn like swift/shapes-vqa's (swift/dataset/shapes.py); the checkpoint's args.json names the model.
"""
import sys

import torch
from ask import load_checkpoint  # examples/ask.py, next to this script

from swift.dataset.shapes import draw

QUESTIONS = ('<image>What shape is in the picture?', '<image>What colour is the shape?')


def main(ckpt: str, specs):
    model, tokenizer, template = load_checkpoint(ckpt)
    template.set_mode('infer')
    for spec in specs:
        color, shape = spec.split(':')
        for question in QUESTIONS:
            row = {'messages': [{'role': 'user', 'content': question}], 'images': [draw(shape, color)]}
            batch = template.data_collator([template.encode(row)])
            with torch.no_grad():
                out = model.generate(**batch, max_new_tokens=16, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            answer = tokenizer.decode(out[0, batch['input_ids'].shape[1]:], skip_special_tokens=True).strip()
            print(f'[{color} {shape}] Q: {question[len("<image>"):]}  A: {answer}')


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
