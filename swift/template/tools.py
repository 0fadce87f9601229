"""Tools prompts: turn the row's `tools` column (OpenAI tool schemas) into the system prompt.

`fn(tools: list[dict], system: str | None) -> str` returns the whole system text. 'hermes' (alias 'qwen')
reproduces the Qwen2.5/Qwen3 official chat template; 'react_en'/'react_zh' are ReAct instructions.
"""
import json
from typing import List, Optional

from swift.utils import Registry, TemplateError

TOOLS_PROMPT_MAPPING: Registry = Registry('tools_prompt')


def register_tools_prompt(name: str, fn, *, exist_ok: bool = False):
    return TOOLS_PROMPT_MAPPING.register(name, fn, exist_ok=exist_ok)


def parse_tools(tools) -> List[dict]:
    if not tools:
        return []
    if isinstance(tools, str):
        try:
            tools = json.loads(tools)
        except json.JSONDecodeError as e:
            raise TemplateError(f'The tools column is not valid JSON ({e}); give a JSON list of tool schemas.')
    if isinstance(tools, dict):
        tools = [tools]
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        raise TemplateError('The tools column must be a JSON list of OpenAI tool schemas (objects).')
    return tools


def format_tools(tools, system: Optional[str], tools_prompt: str) -> Optional[str]:
    """The system text with the tools rendered in; `system` unchanged when there are no tools."""
    tools = parse_tools(tools)
    if not tools:
        return system
    try:
        fn = TOOLS_PROMPT_MAPPING.get(tools_prompt)
    except KeyError as e:
        raise TemplateError(f'{e.args[0]} Pass --tools_prompt with one of them.') from None
    return fn(tools, system)


def _function(tool: dict) -> dict:
    return tool.get('function', tool)


def hermes_tools_prompt(tools: List[dict], system: Optional[str]) -> str:
    head = f'{system}\n\n' if system else ''
    tool_lines = ''.join('\n' + json.dumps(tool, ensure_ascii=False) for tool in tools)
    return (f'{head}# Tools\n\nYou may call one or more functions to assist with the user query.\n\n'
            f'You are provided with function signatures within <tools></tools> XML tags:\n<tools>{tool_lines}\n'
            '</tools>\n\nFor each function call, return a json object with function name and arguments within '
            '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": '
            '<args-json-object>}\n</tool_call>')


def _react(tools: List[dict], system: Optional[str], texts: dict) -> str:
    lines = []
    for tool in tools:
        fn = _function(tool)
        params = json.dumps(fn.get('parameters', {}), ensure_ascii=False)
        lines.append(texts['tool'].format(name=fn.get('name', ''), desc=fn.get('description', ''), params=params))
    names = ', '.join(_function(t).get('name', '') for t in tools)
    body = texts['body'].format(tool_list='\n\n'.join(lines), tool_names=names)
    return f'{system}\n\n{body}' if system else body


_REACT_EN = {
    'tool': '{name}: {desc} Parameters: {params} Give the arguments as a JSON object.',
    'body': ('Answer the following question as well as you can. You can use these tools:\n\n{tool_list}\n\n'
             'Use this format:\n\nQuestion: the question to answer\nThought: think about what to do next\n'
             'Action: the tool to use, one of [{tool_names}]\nAction Input: the input to the tool\n'
             'Observation: the result of the tool\n... (Thought/Action/Action Input/Observation may repeat)\n'
             'Thought: I now know the final answer\nFinal Answer: the final answer to the question\n\nBegin!'),
}
_REACT_ZH = {
    'tool': '{name}: {desc} 参数: {params} 参数以 JSON 对象给出。',
    'body': ('尽你所能回答下面的问题。你可以使用以下工具:\n\n{tool_list}\n\n请使用以下格式:\n\n'
             'Question: 需要回答的问题\nThought: 思考下一步做什么\nAction: 要使用的工具, 必须是 [{tool_names}] 之一\n'
             'Action Input: 工具的输入\nObservation: 工具返回的结果\n... (Thought/Action/Action Input/Observation 可以重复)\n'
             'Thought: 我已经知道最终答案\nFinal Answer: 问题的最终答案\n\n开始!'),
}

register_tools_prompt('hermes', hermes_tools_prompt)
register_tools_prompt('qwen', hermes_tools_prompt)
register_tools_prompt('react_en', lambda tools, system: _react(tools, system, _REACT_EN))
register_tools_prompt('react_zh', lambda tools, system: _react(tools, system, _REACT_ZH))
