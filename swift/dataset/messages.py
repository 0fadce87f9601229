"""Normalising messages and the optional canonical fields; raises RowError with a short reason."""
import json
from typing import Any, Dict, List, Optional

from .report import RowError

# Role spellings of OpenAI, ShareGPT and agent datasets -> canonical roles.
ROLE_ALIASES = {
    'system': 'system',
    'user': 'user', 'human': 'user',
    'assistant': 'assistant', 'gpt': 'assistant', 'bot': 'assistant', 'model': 'assistant',
    'function_call': 'assistant', 'tool_call': 'assistant',
    'tool': 'tool', 'function': 'tool', 'observation': 'tool', 'tool_response': 'tool', 'ipython': 'tool',
}
# Which role may follow which (None = start, after an optional system message).
_NEXT_ROLES = {None: {'user'}, 'user': {'assistant'}, 'assistant': {'user', 'tool'}, 'tool': {'tool', 'assistant'}}


def _content_text(content: Any, tool_calls: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts: only text is supported
        if not all(isinstance(p, dict) and p.get('type') == 'text' for p in content):
            raise RowError('unsupported non-text content part')
        return ''.join(str(p.get('text', '')) for p in content)
    if content is None and tool_calls:  # an OpenAI assistant tool call becomes its JSON text
        calls = [c.get('function', c) if isinstance(c, dict) else c for c in tool_calls]
        return json.dumps(calls if len(calls) > 1 else calls[0], ensure_ascii=False)
    raise RowError('message content is not a string')


def normalize_message(message: Any, role_key: str = 'role', content_key: str = 'content',
                      role_map: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    if not isinstance(message, dict):
        raise RowError('message is not an object')
    role = message.get(role_key)
    role = (role_map or {}).get(role, role)
    if role not in ROLE_ALIASES:
        raise RowError(f'unknown role {role!r}')
    return {'role': ROLE_ALIASES[role], 'content': _content_text(message.get(content_key), message.get('tool_calls'))}


def normalize_messages(messages: Any, **kwargs) -> List[Dict[str, str]]:
    """Messages as uniform {'role', 'content'} string dicts, so Arrow schemas match across formats."""
    if not isinstance(messages, list):
        raise RowError('messages is not a list')
    return [normalize_message(m, **kwargs) for m in messages]


def check_order(messages: List[Dict[str, str]]) -> None:
    body = messages[1:] if messages and messages[0]['role'] == 'system' else messages
    if not body:
        raise RowError('empty conversation')
    if len(body) == 1 and body[0]['role'] == 'assistant':
        return  # a pretraining row: the text alone
    previous = None
    for message in body:
        if message['role'] not in _NEXT_ROLES[previous]:
            raise RowError('roles out of order')
        previous = message['role']


def _check_label(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise RowError('label is not a bool or number')


def _check_tools(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if not isinstance(value, str):
        raise RowError('tools is not JSON')
    try:
        json.loads(value)
    except ValueError:
        raise RowError('tools is not valid JSON') from None
    return value


def finalize_row(row: Dict[str, Any]) -> Dict[str, Any]:
    """Validate the canonical fields of a preprocessed row; other columns pass untouched."""
    if not isinstance(row, dict):
        raise RowError('preprocess returned a non-dict row')
    if row.get('messages') is None:
        raise RowError('no messages')
    row['messages'] = normalize_messages(row['messages'])
    check_order(row['messages'])
    rejected = row.get('rejected_response')
    if rejected is not None and not isinstance(rejected, str):
        raise RowError('rejected_response is not a string')
    if 'label' in row:
        row['label'] = _check_label(row['label'])
    if 'tools' in row:
        row['tools'] = _check_tools(row['tools'])
    return row
