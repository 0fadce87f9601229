"""Alignment encodings on top of `Template.encode`: preference pairs, KTO rows, RM pairs and GRPO/PPO prompts.

The prompt is encoded once (inference mode, ending with the generation prompt); the chosen and rejected
sequences are that prompt followed by their own completion tokens, so both share the prompt encoding exactly.
`rlhf_encoder(rlhf_type, template)` is the row encoder `swift/dataset/encode.py` runs for `swift rlhf`.
"""
from typing import Any, Callable, Dict, List

from swift.utils import TemplateError

from .multimodal import MEDIA_KEYS

# Algorithms that train on image rows: dpo and kto rows carry the prompt's media tensors; grpo rows keep the
# images column (its trainer encodes prompt + images per batch, swift/trainers/rlhf/grpo_media.py, and the reward
# functions receive it). trl's GRPO forward takes no video tensors.
MEDIA_RLHF_TYPES = ('dpo', 'kto', 'grpo')


def _with_response(row: Dict[str, Any], response: str) -> Dict[str, Any]:
    messages = list(row['messages'])
    if not messages or messages[-1]['role'] != 'assistant':
        raise TemplateError('A preference row must end with an assistant message (the chosen response).')
    return {**row, 'messages': messages[:-1] + [{'role': 'assistant', 'content': response}]}


def _completion(template, prompt_ids: List[int], row: Dict[str, Any]) -> List[int]:
    """Completion tokens of a training row whose encoding must start with `prompt_ids`."""
    encoded = template.encode(row, mode='train')
    supervised = [i for i, label in enumerate(encoded['labels']) if label != -100]
    # the layout after the last end-of-turn (ChatML's '\n') is no model output: the completion ends before it
    full = encoded['input_ids'][:supervised[-1] + 1] if supervised else encoded['input_ids']
    if full[:len(prompt_ids)] != prompt_ids:
        raise TemplateError('The template renders the prompt differently for training and inference; pick another '
                            '--template for alignment training.')
    if len(full) == len(prompt_ids):
        raise TemplateError('The response encodes to no tokens (or was truncated away).')
    return full[len(prompt_ids):]


def encode_prompt(template, row: Dict[str, Any]) -> List[int]:
    """The prompt tokens: everything up to and including the assistant generation prompt."""
    return template.encode(row, mode='infer')['input_ids']


def encode_preference(template, row: Dict[str, Any]) -> Dict[str, Any]:
    """{'prompt_ids', 'chosen_ids', 'rejected_ids'} (completions exclude the prompt), plus the prompt's media
    tensors for an image row (both sides share them)."""
    rejected = row.get('rejected_response')
    if not isinstance(rejected, str) or not rejected:
        raise TemplateError('The row has no rejected response: preference training needs `rejected_response` '
                            '(or chosen/rejected columns) in every row.')
    prompt = template.encode(row, mode='infer')
    prompt_ids = prompt['input_ids']
    return {
        'prompt_ids': prompt_ids,
        'chosen_ids': _completion(template, prompt_ids, row),
        'rejected_ids': _completion(template, prompt_ids, _with_response(row, rejected)),
        **_media(prompt),
    }


def encode_kto(template, row: Dict[str, Any]) -> Dict[str, Any]:
    """{'prompt_ids', 'completion_ids', 'label'}: the row's response labelled desirable (True) or not, plus the
    prompt's media tensors for an image row."""
    label = row.get('label')
    if label is None:
        raise TemplateError('KTO rows need a `label` column (true for a desirable response, false otherwise).')
    prompt = template.encode(row, mode='infer')
    prompt_ids = prompt['input_ids']
    return {'prompt_ids': prompt_ids, 'completion_ids': _completion(template, prompt_ids, row), 'label': bool(label),
            **_media(prompt)}


def encode_kto_from_preference(template, row: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A preference row as two KTO rows: chosen desirable, rejected undesirable (both with the prompt's media)."""
    pair = encode_preference(template, row)
    media = _media(pair)
    return [{'prompt_ids': pair['prompt_ids'], 'completion_ids': pair['chosen_ids'], 'label': True, **media},
            {'prompt_ids': pair['prompt_ids'], 'completion_ids': pair['rejected_ids'], 'label': False, **media}]


def _media(encoded: Dict[str, Any]) -> Dict[str, Any]:
    return {k: encoded[k] for k in MEDIA_KEYS if encoded.get(k) is not None}


def prompt_messages(row: Dict[str, Any]) -> List[Dict[str, str]]:
    """GRPO/PPO prompt: the messages without a trailing assistant answer."""
    messages = list(row['messages'])
    if messages and messages[-1]['role'] == 'assistant':
        messages = messages[:-1]
    if not messages:
        raise TemplateError('A prompt row needs at least one user message.')
    return messages


def legacy_pair_columns(pair: Dict[str, List[int]]) -> Dict[str, List[int]]:
    """prompt/chosen/rejected ids -> the column layout trl's CPO/ORPO `tokenize_row` produces."""
    prompt = pair['prompt_ids']
    out = {'prompt_input_ids': prompt, 'prompt_attention_mask': [1] * len(prompt)}
    for side in ('chosen', 'rejected'):
        ids = pair[f'{side}_ids']
        out[f'{side}_input_ids'] = prompt + ids
        out[f'{side}_attention_mask'] = [1] * (len(prompt) + len(ids))
        out[f'{side}_labels'] = [-100] * len(prompt) + ids
    return out


def _check_media(kind: str, row) -> None:
    if kind not in MEDIA_RLHF_TYPES and (row.get('images') or row.get('videos')):
        raise TemplateError(f'--rlhf_type {kind} trains on text only in this version; image rows train with '
                            f'--rlhf_type {", ".join(MEDIA_RLHF_TYPES)} (or swift sft)')
    if kind == 'grpo' and row.get('videos'):
        raise TemplateError('--rlhf_type grpo takes images, not videos (trl\'s GRPO forward passes no video '
                            'tensors); train video rows with --rlhf_type dpo or swift sft')


def pair_layout(kind: str, pair: Dict[str, List[int]]) -> Dict[str, List[int]]:
    """A dpo pair (prompt/chosen/rejected ids) in the columns the `kind` trainer reads (a dpo-encoded cache feeds
    every pairwise algorithm this way)."""
    if kind in ('cpo', 'simpo', 'orpo'):
        return legacy_pair_columns(pair)
    if kind == 'rm':
        return {'chosen_ids': pair['prompt_ids'] + pair['chosen_ids'],
                'rejected_ids': pair['prompt_ids'] + pair['rejected_ids']}
    return pair


def _preference(kind: str, template, row):
    _check_media(kind, row)
    return [pair_layout(kind, encode_preference(template, row))]


def _kto(template, row):
    _check_media('kto', row)
    # Decided per row, not from the dataset's columns: a streamed dataset reports none.
    if row.get('label') is not None:
        return [encode_kto(template, row)]
    return encode_kto_from_preference(template, row)


def _prompt_only(kind: str, template, row):
    _check_media(kind, row)
    messages = prompt_messages(row)
    prompt_ids = encode_prompt(template, {**row, 'messages': messages})  # too long: fails early, counted
    if kind == 'ppo':
        return [{'prompt_ids': prompt_ids}]
    # GRPO: trl needs the messages; the other columns go to the reward functions.
    extra = {k: v for k, v in row.items() if k not in ('messages', 'rejected_response')}
    return [{'prompt': messages, **extra, 'length': len(prompt_ids)}]


def rlhf_encoder(rlhf_type: str, template) -> Callable[[Dict[str, Any]], List[Dict[str, Any]]]:
    """The row encoder of an alignment algorithm: canonical row -> the rows its trainer reads."""
    if rlhf_type in ('dpo', 'cpo', 'simpo', 'orpo', 'rm'):
        return lambda row: _preference(rlhf_type, template, row)
    if rlhf_type == 'kto':
        return lambda row: _kto(template, row)
    if rlhf_type in ('ppo', 'grpo'):
        return lambda row: _prompt_only(rlhf_type, template, row)
    raise TemplateError(f'No row encoder for rlhf_type {rlhf_type!r}.')
