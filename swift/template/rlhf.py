"""Alignment encodings on top of `Template.encode`: preference pairs, KTO rows, RM pairs and GRPO prompts.

The prompt is encoded once (inference mode, ending with the generation prompt); the chosen and rejected
sequences are that prompt followed by their own completion tokens, so both share the prompt encoding exactly.
"""
from typing import Any, Dict, List

from swift.utils import TemplateError


def _with_response(row: Dict[str, Any], response: str) -> Dict[str, Any]:
    messages = list(row['messages'])
    if not messages or messages[-1]['role'] != 'assistant':
        raise TemplateError('A preference row must end with an assistant message (the chosen response).')
    return {**row, 'messages': messages[:-1] + [{'role': 'assistant', 'content': response}]}


def _completion(template, prompt_ids: List[int], row: Dict[str, Any]) -> List[int]:
    """Completion tokens of a training row whose encoding must start with `prompt_ids`."""
    full = template.encode(row, mode='train')['input_ids']
    if full[:len(prompt_ids)] != prompt_ids:
        raise TemplateError('The template renders the prompt differently for training and inference; pick another '
                            '--template for alignment training.')
    if len(full) == len(prompt_ids):
        raise TemplateError('The response encodes to no tokens (or was truncated away).')
    return full[len(prompt_ids):]


def encode_prompt(template, row: Dict[str, Any]) -> List[int]:
    """The prompt tokens: everything up to and including the assistant generation prompt."""
    return template.encode(row, mode='infer')['input_ids']


def encode_preference(template, row: Dict[str, Any]) -> Dict[str, List[int]]:
    """{'prompt_ids', 'chosen_ids', 'rejected_ids'} (completions exclude the prompt)."""
    rejected = row.get('rejected_response')
    if not isinstance(rejected, str) or not rejected:
        raise TemplateError('The row has no rejected response: preference training needs `rejected_response` '
                            '(or chosen/rejected columns) in every row.')
    prompt_ids = encode_prompt(template, row)
    return {
        'prompt_ids': prompt_ids,
        'chosen_ids': _completion(template, prompt_ids, row),
        'rejected_ids': _completion(template, prompt_ids, _with_response(row, rejected)),
    }


def encode_kto(template, row: Dict[str, Any]) -> Dict[str, Any]:
    """{'prompt_ids', 'completion_ids', 'label'}: the row's response labelled desirable (True) or not."""
    label = row.get('label')
    if label is None:
        raise TemplateError('KTO rows need a `label` column (true for a desirable response, false otherwise).')
    prompt_ids = encode_prompt(template, row)
    return {'prompt_ids': prompt_ids, 'completion_ids': _completion(template, prompt_ids, row), 'label': bool(label)}


def encode_kto_from_preference(template, row: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A preference row as two KTO rows: chosen desirable, rejected undesirable."""
    pair = encode_preference(template, row)
    return [{'prompt_ids': pair['prompt_ids'], 'completion_ids': pair['chosen_ids'], 'label': True},
            {'prompt_ids': pair['prompt_ids'], 'completion_ids': pair['rejected_ids'], 'label': False}]


def prompt_messages(row: Dict[str, Any]) -> List[Dict[str, str]]:
    """GRPO/PPO prompt: the messages without a trailing assistant answer."""
    messages = list(row['messages'])
    if messages and messages[-1]['role'] == 'assistant':
        messages = messages[:-1]
    if not messages:
        raise TemplateError('A prompt row needs at least one user message.')
    return messages
