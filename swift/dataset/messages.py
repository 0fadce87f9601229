"""Normalising messages and the optional canonical fields; raises RowError with a short reason."""
import json
from typing import Any, Dict, List, Optional

from .media import Media, content_parts_text, merge_part_media
from .report import RowError

# Role spellings of OpenAI, ShareGPT and agent datasets -> canonical roles.
ROLE_ALIASES = {
    'system': 'system',
    'user': 'user', 'human': 'user',
    'assistant': 'assistant', 'gpt': 'assistant', 'bot': 'assistant', 'model': 'assistant',
    'function_call': 'assistant', 'tool_call': 'assistant',
    'tool': 'tool', 'function': 'tool', 'observation': 'tool', 'tool_response': 'tool', 'ipython': 'tool',
}
CALL_ROLES = ('function_call', 'tool_call')  # ms-swift / ShareGPT: one message per call, content {"name", "arguments"}
# Canonical tool fields: on every message of a row that has any (one Arrow schema); tool_calls is JSON text.
TOOL_FIELDS = ('tool_calls', 'tool_call_id', 'name')
# Which role may follow which (None = start, after an optional system message).
_NEXT_ROLES = {None: {'user'}, 'user': {'assistant'}, 'assistant': {'user', 'tool'}, 'tool': {'tool', 'assistant'}}


def _content_text(content: Any, media: Optional[Media] = None) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts: text, and image/video parts as <image>/<video> tags
        return content_parts_text(content, media)
    if content is None:
        return ''
    raise RowError('message content is not a string')


def canonical_call(call: Any) -> Dict[str, Any]:
    """One tool call as {'type': 'function', 'function': {'name', 'arguments'}} (+ 'id'); arguments stay as given
    (an object or the JSON text OpenAI clients send)."""
    if isinstance(call, str):
        try:
            call = json.loads(call)
        except ValueError:
            raise RowError('tool call is not JSON') from None
    if not isinstance(call, dict):
        raise RowError('tool call is not an object')
    function = call.get('function', call)
    if not isinstance(function, dict) or not isinstance(function.get('name'), str) or not function['name']:
        raise RowError('tool call has no function name')
    arguments = function.get('arguments', function.get('parameters', {}))
    out = {'type': 'function', 'function': {'name': function['name'], 'arguments': arguments}}
    if call.get('id'):
        out['id'] = str(call['id'])
    return out


def parse_tool_calls(value: Any) -> List[Dict[str, Any]]:
    """A message's tool_calls (a list, or its JSON text as stored in datasets) as canonical calls."""
    if value is None or value == '':
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise RowError('tool_calls is not valid JSON') from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise RowError('tool_calls is not a list')
    return [canonical_call(c) for c in value]


def normalize_message(message: Any, role_key: str = 'role', content_key: str = 'content',
                      role_map: Optional[Dict[str, str]] = None, media: Optional[Media] = None) -> Dict[str, Any]:
    if not isinstance(message, dict):
        raise RowError('message is not an object')
    role = message.get(role_key)
    role = (role_map or {}).get(role, role)
    if role not in ROLE_ALIASES:
        raise RowError(f'unknown role {role!r}')
    content = message.get(content_key)
    if role in CALL_ROLES:
        calls, content = [canonical_call(content)], ''
    else:
        calls = parse_tool_calls(message.get('tool_calls'))
        if message.get('function_call'):  # OpenAI's legacy single call
            calls.append(canonical_call(message['function_call']))
    out = {'role': ROLE_ALIASES[role], 'content': _content_text(content, media)}
    if calls:
        out['tool_calls'] = calls
    for key in ('tool_call_id', 'name'):
        if out['role'] == 'tool' and message.get(key):
            out[key] = str(message[key])
    return out


def _merge_calls(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """ms-swift rows write each call as its own message after the assistant's text: one assistant turn."""
    out = []
    for m in messages:
        prev = out[-1] if out else None
        if m['role'] == 'assistant' and m.get('tool_calls') and prev is not None and prev['role'] == 'assistant':
            if m['content']:
                raise RowError('two assistant messages in a row')
            prev['tool_calls'] = prev.get('tool_calls', []) + m['tool_calls']
            continue
        out.append(m)
    return out


def normalize_messages(messages: Any, **kwargs) -> List[Dict[str, Any]]:
    """Messages as uniform dicts ({'role', 'content'} strings, plus TOOL_FIELDS on every message when the row
    has tool calls or tool ids), so Arrow schemas match across rows. `media=[]` collects content-part media."""
    if not isinstance(messages, list):
        raise RowError('messages is not a list')
    out = _merge_calls([normalize_message(m, **kwargs) for m in messages])
    if any(k in m for m in out for k in TOOL_FIELDS):
        for m in out:
            calls = m.get('tool_calls')
            m['tool_calls'] = json.dumps(calls, ensure_ascii=False) if calls else None
            m.setdefault('tool_call_id', None)
            m.setdefault('name', None)
    return out


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
    media: Media = []
    row['messages'] = normalize_messages(row['messages'], media=media)
    merge_part_media(row, media)
    check_order(row['messages'])
    rejected = row.get('rejected_response')
    if rejected is not None and not isinstance(rejected, str):
        raise RowError('rejected_response is not a string')
    if 'label' in row:
        row['label'] = _check_label(row['label'])
    if 'tools' in row:
        row['tools'] = _check_tools(row['tools'])
    return row
