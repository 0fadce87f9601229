"""Parse a model's text back into OpenAI `tool_calls`, in the agent format the template wrote the tools in
(swift/template/tools.py, `AgentFormat.parser`): hermes `<tool_call>` blocks (Qwen2.5/Qwen3), Llama 3.1/3.2 bare
JSON, ReAct `Action:`/`Action Input:` lines (react_en/react_zh/toolbench), GLM-4 `name\\n{args}` turns, DeepSeek's
tool-call markers, Mistral's `[TOOL_CALLS][...]` and Qwen-Agent's `✿FUNCTION✿`/`✿ARGS✿`."""
import json
import random
import re
import string
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .protocol import ChatCompletionMessageToolCall, Function

Calls = List[ChatCompletionMessageToolCall]
_HERMES = re.compile(r'<tool_call>\s*(.*?)\s*(?:</tool_call>|$)', re.S)
_REACT = re.compile(r'Action:\s*(.+?)\s*\nAction Input:\s*(.*?)(?=\nObservation:|\nAction:|\nThought:|\Z)', re.S)
_QWEN = re.compile(r'✿FUNCTION✿:\s*(.+?)\s*\n✿ARGS✿:\s*(.*?)(?=\n✿RESULT✿|\n✿FUNCTION✿|\n✿RETURN✿|\Z)', re.S)
_DEEPSEEK = re.compile(r'<｜tool▁call▁begin｜>\s*\w*\s*<｜tool▁sep｜>\s*(.+?)\n```(?:json)?\n(.*?)\n```', re.S)
# the text that starts a tool call in each format; content is streamed only up to it
MARKERS = {'hermes': '<tool_call>', 'react': 'Action:', 'qwen': '✿FUNCTION✿', 'deepseek': '<｜tool▁calls▁begin｜>',
           'mistral': '[TOOL_CALLS]', 'llama3': '{', 'glm4': None}


def tool_call_format(template) -> str:
    """The parser for a template (its agent format) or for a tools_prompt name."""
    if isinstance(template, str) or template is None:
        from swift.template.tools import get_agent_format
        return get_agent_format(template or 'react_en').parser
    return template.agent_format.parser


def call_id(fmt: str) -> str:
    """Mistral's templates require 9-character alphanumeric ids; others use OpenAI's call_ ids."""
    if fmt == 'mistral':
        return ''.join(random.choices(string.ascii_letters + string.digits, k=9))
    return ChatCompletionMessageToolCall(Function('', '')).id


def streamable_len(text: str, fmt: str) -> int:
    """How much of `text` can be streamed as content: everything before a (possibly partial) tool-call marker.
    Llama 3 calls are bare JSON and GLM-4 calls start with the function name, so their content is held back while
    it could still be a call."""
    if fmt == 'llama3':
        return 0 if not text.strip() or text.lstrip().startswith('{') else len(text)
    mark = MARKERS.get(fmt)
    if fmt == 'glm4' or mark is None:
        return 0
    i = text.find(mark)
    if i >= 0:
        return i
    for k in range(min(len(mark) - 1, len(text)), 0, -1):  # the text may end in the marker's first characters
        if text.endswith(mark[:k]):
            return len(text) - k
    return len(text)


def parse_tool_calls(text: str, fmt: str, tool_names: Optional[Sequence[str]] = None,
                     parallel: bool = True) -> Tuple[Optional[str], Optional[Calls]]:
    """(content, tool_calls); tool_calls is None when the text holds none. Content is the text outside them.
    `parallel=False` keeps the first call only (OpenAI's parallel_tool_calls)."""
    content, calls = _PARSERS.get(fmt, _parse_react)(text, fmt, tool_names)
    if not calls:
        return text, None
    for call in calls:
        call.id = call_id(fmt) if not call.id or fmt == 'mistral' and len(call.id) != 9 else call.id
    return (content.strip() or None), (calls if parallel else calls[:1])


def _call(name: str, arguments, id_: Optional[str] = None) -> ChatCompletionMessageToolCall:
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    call = ChatCompletionMessageToolCall(function=Function(name=name.strip(), arguments=arguments.strip()))
    call.id = id_ or ''
    return call


def _json(text: str):
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None


def _parse_hermes(text: str, fmt: str, names) -> Tuple[str, Calls]:
    calls = []
    for body in _HERMES.findall(text):
        obj = _json(body)
        if isinstance(obj, dict) and isinstance(obj.get('name'), str):
            calls.append(_call(obj['name'], obj.get('arguments', {})))
    return _HERMES.sub('', text), calls


def _parse_pairs(pattern: re.Pattern) -> Callable:
    def parse(text: str, fmt: str, names) -> Tuple[str, Calls]:
        calls = [_call(name, args) for name, args in pattern.findall(text) if name.strip()]
        return (text[:text.find(MARKERS[fmt])] if calls else text), calls

    return parse


_parse_react = _parse_pairs(_REACT)


def _parse_llama3(text: str, fmt: str, names) -> Tuple[str, Calls]:
    """One JSON object per call ({"name", "parameters"}), the whole text or one per line."""
    stripped = text.strip()
    objs = [_json(stripped)] if _json(stripped) is not None else [_json(line) for line in stripped.splitlines()]
    if not objs or not all(isinstance(o, dict) and isinstance(o.get('name'), str) for o in objs):
        return text, []
    return '', [_call(o['name'], o.get('parameters', o.get('arguments', {}))) for o in objs]


def _parse_glm4(text: str, fmt: str, names) -> Tuple[str, Calls]:
    """Turns of 'name\\n{arguments}' (separated by <|assistant|> when there are several)."""
    content, calls = [], []
    for part in text.split('<|assistant|>'):
        name, _, args = part.strip('\n').partition('\n')
        known = names is None or name.strip() in names
        if known and re.fullmatch(r'[\w.\-]+', name.strip() or '-') and isinstance(_json(args), dict):
            calls.append(_call(name, args))
        else:
            content.append(part)
    return '\n'.join(content), calls


def _parse_deepseek(text: str, fmt: str, names) -> Tuple[str, Calls]:
    calls = [_call(name, args) for name, args in _DEEPSEEK.findall(text)]
    return (text[:text.find(MARKERS[fmt])] if calls else text), calls


def _parse_mistral(text: str, fmt: str, names) -> Tuple[str, Calls]:
    """[TOOL_CALLS][{"name", "arguments", "id"}, ...]; the marker is a control token that decoding may drop."""
    i = text.find(MARKERS[fmt])
    head, body = (text[:i], text[i + len(MARKERS[fmt]):]) if i >= 0 else ('', text)
    items = _json(body.strip())
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not all(isinstance(o, dict) and isinstance(o.get('name'), str) for o in items):
        return text, []
    return head, [_call(o['name'], o.get('arguments', {}), o.get('id')) for o in items]


_PARSERS: Dict[str, Callable] = {
    'hermes': _parse_hermes, 'react': _parse_react, 'qwen': _parse_pairs(_QWEN), 'llama3': _parse_llama3,
    'glm4': _parse_glm4, 'deepseek': _parse_deepseek, 'mistral': _parse_mistral}


def parse_output(request, text: str, fmt: str, prefill: str = '') -> Tuple[Optional[str], Optional[Calls]]:
    """The content and tool calls of one generated text of `request` (InferRequest); `prefill` is the start of a
    forced call the prompt ended with (Template.tool_prefill)."""
    if not request.tools:
        return text, None
    return parse_tool_calls(prefill + text, fmt, request.tool_names() or None, request.parallel_tool_calls)


def streamable(request, text: str, fmt: str, prefill: str = '') -> int:
    """How much of the text of a tools request can be streamed as content so far."""
    return 0 if prefill else streamable_len(text, fmt)
