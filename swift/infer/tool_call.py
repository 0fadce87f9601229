"""Parse a model's text into OpenAI `tool_calls`, in the format the template wrote the tools prompt in
(swift/template/tools.py): hermes `<tool_call>{"name", "arguments"}</tool_call>` blocks (Qwen2.5/Qwen3) or ReAct
`Action: name` / `Action Input: {json}` lines (the others)."""
import json
import re
from typing import List, Optional, Tuple

from .protocol import ChatCompletionMessageToolCall, Function

_HERMES = re.compile(r'<tool_call>\s*(.*?)\s*(?:</tool_call>|$)', re.S)
_REACT = re.compile(r'Action:\s*(.+?)\s*\nAction Input:\s*(.*?)(?=\nObservation:|\nAction:|\Z)', re.S)


def tool_call_format(tools_prompt: Optional[str]) -> str:
    return 'hermes' if tools_prompt in ('hermes', 'qwen') else 'react'


def marker(fmt: str) -> str:
    """The text that starts a tool call: content is streamed only up to it."""
    return '<tool_call>' if fmt == 'hermes' else 'Action:'


def streamable_len(text: str, fmt: str) -> int:
    """How much of `text` can be streamed as content: everything before a (possibly partial) tool-call marker."""
    mark = marker(fmt)
    i = text.find(mark)
    if i >= 0:
        return i
    for k in range(min(len(mark) - 1, len(text)), 0, -1):  # the text may end in the marker's first characters
        if text.endswith(mark[:k]):
            return len(text) - k
    return len(text)


def parse_tool_calls(text: str, fmt: str) -> Tuple[Optional[str], Optional[List[ChatCompletionMessageToolCall]]]:
    """(content, tool_calls); tool_calls is None when the text holds none. Content is the text outside them."""
    calls = _parse_hermes(text) if fmt == 'hermes' else _parse_react(text)
    if not calls:
        return text, None
    if fmt == 'hermes':
        content = _HERMES.sub('', text).strip()
    else:
        content = text[:text.find(marker(fmt))].strip()
    return content or None, calls


def _call(name: str, arguments) -> ChatCompletionMessageToolCall:
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return ChatCompletionMessageToolCall(function=Function(name=name.strip(), arguments=arguments))


def _parse_hermes(text: str) -> List[ChatCompletionMessageToolCall]:
    calls = []
    for body in _HERMES.findall(text):
        try:
            obj = json.loads(body)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get('name'), str):
            calls.append(_call(obj['name'], obj.get('arguments', {})))
    return calls


def _parse_react(text: str) -> List[ChatCompletionMessageToolCall]:
    return [_call(name, args.strip()) for name, args in _REACT.findall(text) if name.strip()]
