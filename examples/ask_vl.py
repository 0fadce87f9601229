"""Show a trained vision-language checkpoint drawn shapes and print its answers (greedy).

usage: python examples/ask_vl.py <output_dir or checkpoint> colour:shape [colour:shape ...]
e.g.   python examples/ask_vl.py output/demo_vl red:circle blue:square
The images are drawn like swift/shapes-vqa's (swift/dataset/shapes.py); the checkpoint's args.json names the model.
"""
import os
import sys

import torch

from swift.arguments import read_args_json
from swift.dataset.shapes import draw
from swift.model import get_model_tokenizer
from swift.template import get_template

QUESTIONS = ('<image>What shape is in the picture?', '<image>What colour is the shape?')


def main(ckpt: str, specs):
    saved = read_args_json(ckpt)
    is_adapter = os.path.exists(os.path.join(ckpt, 'adapter_config.json'))
    model, tokenizer = get_model_tokenizer(saved['model'] if is_adapter else ckpt, 'float32',
                                           model_type=saved.get('model_type'))
    if is_adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, ckpt)
    template = get_template(saved.get('template') or tokenizer.model_meta.template, tokenizer)
    template.set_mode('infer')
    model.eval()
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
