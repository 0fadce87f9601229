"""Shared helpers for the template tests."""
import copy
import functools
import os

from transformers.utils.chat_template_utils import render_jinja_template

from swift.model.tiny import load_tiny_tokenizer

OFFICIAL_DIR = os.path.join(os.path.dirname(__file__), 'official_templates')


@functools.lru_cache()
def tokenizer(name: str = 'swift/tiny-qwen2', bos: str = None, eos: str = None):
    """The tiny tokenizer, optionally with a family's bos/eos tokens added (cached: deepcopy is not free)."""
    tok = load_tiny_tokenizer(name)
    if bos or eos:
        tok = copy.deepcopy(tok)
        tok.add_special_tokens({k: v for k, v in (('bos_token', bos), ('eos_token', eos)) if v})
    return tok


def official_render(jinja_name: str, messages, tok, tools=None, add_generation_prompt=True, **template_vars) -> str:
    """Render a published chat template the way transformers' apply_chat_template does."""
    with open(os.path.join(OFFICIAL_DIR, jinja_name), encoding='utf-8') as f:
        chat_template = f.read()
    rendered, _ = render_jinja_template([messages], tools=tools, chat_template=chat_template,
                                        add_generation_prompt=add_generation_prompt,
                                        bos_token=tok.bos_token or '', eos_token=tok.eos_token or '',
                                        **template_vars)
    return rendered[0]


def chat(system=True, rounds=3):
    messages = [{'role': 'system', 'content': 'You are a careful bot.'}] if system else []
    for i in range(rounds):
        messages.append({'role': 'user', 'content': f'Question {i}: what is {i} + {i}?'})
        if i < rounds - 1:
            messages.append({'role': 'assistant', 'content': f'It is {2 * i}.'})
    return messages


def train_row(system=False, rounds=2):
    messages = chat(system, rounds)
    messages.append({'role': 'assistant', 'content': f'It is {2 * (rounds - 1)}.'})
    return {'messages': messages}
