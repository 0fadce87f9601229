"""Canonical messages -> (system, rounds): the shape every template renders."""
from dataclasses import dataclass
from typing import List, Optional, Tuple

from swift.utils import TemplateError


@dataclass
class Round:
    query_role: str  # 'user' or 'tool'
    query: Optional[str]  # None: the conversation starts with an assistant message (pt text rows)
    response: Optional[str]  # None: the turn to generate
    tool_results: Optional[List[str]] = None  # the raw tool outputs when query_role == 'tool'
    tool_messages: Optional[List[dict]] = None  # the tool messages themselves (tool_call_id, name)


def _check(message) -> Tuple[str, str]:
    if not isinstance(message, dict) or 'role' not in message:
        raise TemplateError(f'Each message must be a dict with role and content, got {message!r}.')
    role, content = message['role'], message.get('content')
    if role not in ('system', 'user', 'assistant', 'tool'):
        raise TemplateError(f'Unknown message role {role!r}; use system, user, assistant or tool.')
    if content is None:
        content = ''
    if not isinstance(content, str):
        raise TemplateError(f'Message content must be a string, got {type(content).__name__} (role {role}).')
    return role, content


def split_messages(messages: List[dict]) -> Tuple[Optional[str], List[Round]]:
    """Leading system message, then rounds of (user|tool query, assistant response). Consecutive tool
    messages form one tool turn."""
    if not messages:
        raise TemplateError('The row has no messages.')
    pairs = [_check(m) for m in messages]
    system = None
    if pairs[0][0] == 'system':
        system = pairs.pop(0)[1]
        messages = messages[1:]
    rounds: List[Round] = []
    for i, ((role, content), message) in enumerate(zip(pairs, messages)):
        pending = rounds[-1] if rounds and rounds[-1].response is None else None
        if role == 'assistant' and pending is not None:
            pending.response = content
        elif role == 'assistant' and not rounds:
            rounds.append(Round('user', None, content))
        elif role == 'tool' and pending is not None and pending.query_role == 'tool':
            pending.tool_results.append(content)
            pending.tool_messages.append(message)
        elif role == 'system':
            raise TemplateError('A system message is only allowed as the first message.')
        elif (role == 'assistant') == (pending is None):
            raise TemplateError(f'Message {i} ({role}) breaks the order: messages must alternate user/assistant '
                                '(tool results count as user turns) after the optional system.')
        else:
            tool = role == 'tool'
            rounds.append(Round(role, content, None, [content] if tool else None, [message] if tool else None))
    return system, rounds


def fold_system(system: Optional[str], rounds: List[Round], sep: str = '\n\n') -> Optional[str]:
    """For formats without a system role: put the system text in front of the first user query."""
    if system is None:
        return None
    if rounds and rounds[0].query_role == 'user' and rounds[0].query is not None:
        rounds[0].query = f'{system}{sep}{rounds[0].query}'
        return None
    return system
