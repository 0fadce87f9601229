"""Ask a trained checkpoint a few questions (greedy) and print its answers.

usage: python examples/ask.py <output_dir or checkpoint> "question" ["question" ...]
It reads the checkpoint's args.json for the model and template, so nothing else is needed.
"""
import os
import sys

import torch

from swift.arguments import read_args_json
from swift.model import get_model_tokenizer
from swift.template import get_template


def load_checkpoint(ckpt: str):
    """(model, tokenizer, template) of a checkpoint, from its args.json."""
    saved = read_args_json(ckpt)
    # A full fine-tune saves the whole model into the checkpoint; an adapter run saves the adapter only.
    is_adapter = os.path.exists(os.path.join(ckpt, 'adapter_config.json'))
    model, tokenizer = get_model_tokenizer(saved['model'] if is_adapter else ckpt, 'float32',
                                           model_type=saved.get('model_type'))
    if is_adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, ckpt)
    template = get_template(saved.get('template') or tokenizer.model_meta.template, tokenizer,
                            default_system=saved.get('system'))
    return model.eval(), tokenizer, template


def main(ckpt: str, questions):
    model, tokenizer, template = load_checkpoint(ckpt)
    for question in questions:
        encoded = template.encode({'messages': [{'role': 'user', 'content': question}]}, mode='infer')
        input_ids = torch.tensor([encoded['input_ids']])
        with torch.no_grad():
            out = model.generate(input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=64,
                                 do_sample=False, pad_token_id=tokenizer.pad_token_id)
        answer = tokenizer.decode(out[0, input_ids.shape[1]:], skip_special_tokens=True).strip()
        print(f'Q: {question}\nA: {answer}\n')


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
