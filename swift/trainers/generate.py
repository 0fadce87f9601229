"""`--predict_with_generate`: generate each validation sample's last response from its prompt and score it.

The prompt is the template's inference encoding (`Template.encode(mode='infer')`), exactly what `swift infer` and
`swift deploy` give the model (e.g. deepseek_r1's `<think>\\n`), never a cut-out of the training encoding.
"""
from typing import Any, Dict, List

import torch

from swift.template.collator import pad_batch
from swift.utils import TemplateError, pad_token_id
from swift.utils.nlg_metrics import nlg_scores

GENERATION_KEYS = ('prompt_ids', 'response')


def generation_encoder(template):
    """Validation rows: the loss encoding plus the inference prompt and the reference response."""

    def encode(row: Dict[str, Any]) -> List[Dict[str, Any]]:
        messages = row['messages']
        if not messages or messages[-1]['role'] != 'assistant':
            raise TemplateError('--predict_with_generate needs validation rows that end with an assistant answer.')
        encoded = template.encode(row)
        prompt = template.encode({**row, 'messages': messages[:-1]}, mode='infer')['input_ids']
        return [{'input_ids': encoded['input_ids'], 'labels': encoded['labels'],
                 'loss_scale': encoded.get('loss_scale'), 'length': len(encoded['input_ids']),
                 'prompt_ids': prompt, 'response': messages[-1]['content']}]
    return encode


class GenerationCollator:
    """The template's collator, plus the prompts and references of rows that carry them."""

    def __init__(self, template):
        self.template = template

    def __call__(self, batch: List[Dict[str, Any]]) -> Dict[str, Any]:
        out = self.template.data_collator([{k: v for k, v in row.items() if k not in GENERATION_KEYS}
                                           for row in batch])
        if all('prompt_ids' in row for row in batch):
            for key in GENERATION_KEYS:
                out[key] = [row[key] for row in batch]
        return out


def _clean(text: str, stop_words: List[str], special_tokens: List[str]) -> str:
    """The text before the first stop word, without special tokens."""
    for word in stop_words:
        if word and word in text:
            text = text[:text.index(word)]
    for token in special_tokens:
        text = text.replace(token, '')
    return text


@torch.no_grad()
def generate_and_score(model, template, prompts: List[List[int]], references: List[str], max_new_tokens: int,
                       temperature: float) -> Dict[str, List[float]]:
    """Per-sample 'rouge-l' and 'bleu-4' of greedy (temperature 0) or sampled generations against references."""
    tokenizer = template.tokenizer
    pad_id = pad_token_id(tokenizer)
    device = next(model.parameters()).device
    batch = {k: v.to(device) for k, v in pad_batch([{'input_ids': p} for p in prompts], pad_id, 'left').items()}
    sampling = dict(do_sample=True, temperature=temperature) if temperature else dict(do_sample=False)
    out = model.generate(**batch, max_new_tokens=max_new_tokens, pad_token_id=pad_id, **sampling)
    generated = out[:, batch['input_ids'].shape[1]:]
    stop_words, special = template.stop_words, list(tokenizer.all_special_tokens)
    predictions = [_clean(tokenizer.decode(g, skip_special_tokens=False), stop_words, special) for g in generated]
    return nlg_scores(predictions, references)
