"""`--predict_with_generate`: generate each validation sample's last response from its prompt and score it."""
from typing import Dict, List, Optional, Tuple

import torch

from .loss import IGNORE_INDEX
from .metrics import nlg_scores


def split_last_response(input_ids: torch.Tensor, labels: torch.Tensor) -> Optional[Tuple[List[int], List[int]]]:
    """(prompt ids, response ids) of a training row: the response is the last contiguous span of label tokens."""
    positions = (labels != IGNORE_INDEX).nonzero().flatten().tolist()
    if not positions:
        return None
    end = positions[-1] + 1
    start = end - 1
    while start > 0 and labels[start - 1] != IGNORE_INDEX:
        start -= 1
    return input_ids[:start].tolist(), input_ids[start:end].tolist()


def _left_pad(prompts: List[List[int]], pad_id: int, device) -> Dict[str, torch.Tensor]:
    width = max(len(p) for p in prompts)
    ids = [[pad_id] * (width - len(p)) + p for p in prompts]
    mask = [[0] * (width - len(p)) + [1] * len(p) for p in prompts]
    return {'input_ids': torch.tensor(ids, device=device), 'attention_mask': torch.tensor(mask, device=device)}


def _clean(text: str, stop_words: List[str], special_tokens: List[str]) -> str:
    """The text before the first stop word, without special tokens."""
    for word in stop_words:
        if word and word in text:
            text = text[:text.index(word)]
    for token in special_tokens:
        text = text.replace(token, '')
    return text


@torch.no_grad()
def generate_and_score(model, template, inputs: Dict[str, torch.Tensor], max_new_tokens: int,
                       temperature: float) -> Dict[str, List[float]]:
    """Per-sample 'rouge-l' and 'bleu-4' of greedy (temperature 0) or sampled generations against the labels."""
    tokenizer = template.tokenizer
    mask = inputs.get('attention_mask')
    pairs = []
    for i in range(inputs['input_ids'].shape[0]):
        keep = mask[i].bool() if mask is not None else slice(None)
        split = split_last_response(inputs['input_ids'][i][keep], inputs['labels'][i][keep])
        if split is not None:
            pairs.append(split)
    if not pairs:
        return {'rouge-l': [], 'bleu-4': []}
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    batch = _left_pad([p for p, _ in pairs], pad_id, inputs['input_ids'].device)
    sampling = dict(do_sample=True, temperature=temperature) if temperature else dict(do_sample=False)
    out = model.generate(**batch, max_new_tokens=max_new_tokens, pad_token_id=pad_id, **sampling)
    generated = out[:, batch['input_ids'].shape[1]:]
    stop_words, special = template.stop_words, list(tokenizer.all_special_tokens)
    predictions = [_clean(tokenizer.decode(g, skip_special_tokens=False), stop_words, special) for g in generated]
    references = [tokenizer.decode(r, skip_special_tokens=True) for _, r in pairs]
    return nlg_scores(predictions, references)
