"""Agent formats: how the row's `tools` (OpenAI tool schemas) enter the system prompt and how an assistant's
structured tool calls are written as response text, per `--tools_prompt` (ms-swift's agent template names).

A format has `system(tools, system) -> str | None` (the whole system text) and `calls(content, calls) -> str`
(the response text: the assistant's own content followed by its calls). Families with an official tool format
default to it (TemplateMeta.default_tools_prompt); swift/infer/tool_call.py parses the same formats back.
"""
import json
from dataclasses import dataclass
from typing import Any, Callable, List, Optional

from swift.utils import Registry, TemplateError

TOOLS_PROMPT_MAPPING: Registry = Registry('tools_prompt')


@dataclass
class AgentFormat:
    name: str
    system: Callable[[List[dict], Optional[str]], Optional[str]]
    calls: Callable[[str, List[dict]], str]
    parser: str  # the swift/infer/tool_call.py parser of model output in this format
    observation: str = 'Observation: '  # tool results as a user turn, in families without a tool role


def register_tools_prompt(name: str, fn, *, calls: Optional[Callable] = None, parser: str = 'react',
                          observation: str = 'Observation: ', exist_ok: bool = False):
    """Register `fn(tools, system) -> system text`; tool calls are written as ReAct lines unless `calls` is given."""
    fmt = AgentFormat(name, fn, calls or react_calls, parser, observation)
    return TOOLS_PROMPT_MAPPING.register(name, fmt, exist_ok=exist_ok)


def get_agent_format(name: str) -> AgentFormat:
    try:
        return TOOLS_PROMPT_MAPPING.get(name)
    except KeyError as e:
        raise TemplateError(f'{e.args[0]} Pass --tools_prompt with one of them.') from None


def arguments_text(arguments: Any) -> str:
    """Arguments as JSON text: an object is dumped as the chat templates' `tojson` does; text stays as given."""
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def _fn(call: dict) -> dict:
    return call.get('function', call)


def load_calls(value: Any) -> List[dict]:
    """A message's tool_calls: OpenAI's list, or its JSON text as the dataset layer stores it."""
    if not value:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise TemplateError(f'tool_calls of a message is not valid JSON ({e}).') from None
    calls = [value] if isinstance(value, dict) else value
    if not isinstance(calls, list) or not all(isinstance(c, dict) and isinstance(_fn(c).get('name'), str)
                                              for c in calls):
        raise TemplateError('tool_calls must be a list of {"type": "function", "function": {"name", "arguments"}}.')
    return calls


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
    return get_agent_format(tools_prompt).system(tools, system)


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


def toolbench_tools_prompt(tools: List[dict], system: Optional[str]) -> str:
    """ToolBench (swift/ToolBench data): Thought/Action/Action Input steps over the APIs, ended by Finish."""
    apis = json.dumps([_function(t) for t in tools], ensure_ascii=False)
    body = ('You can use many tools (functions) to do the following task.\nAt each step, give your thought about '
            'the current state and what to do next, with a function call to actually execute the step. Your output '
            'should follow this format:\nThought:\nAction:\nAction Input:\n\nAfter the call you get its result and '
            'are in a new state; analyse it and decide the next step. After some (Thought, call) pairs, finish the '
            'task and give the final answer by calling the Finish function. Keep every thought short.\n'
            "Let's Begin!\nTask description: use the functions to handle the user's real-time queries.\n"
            f'Specifically, you have access to the following APIs: {apis}')
    return f'{system}\n\n{body}' if system else body


GLM4_SYSTEM = ('你是一个名为 ChatGLM 的人工智能助手。你是基于智谱AI训练的语言模型 GLM-4 模型开发的，'
               '你的任务是针对用户的问题和要求提供适当的答复和支持。')


def glm4_tools_prompt(tools: List[dict], system: Optional[str], persona: bool = True) -> str:
    """GLM-4's own tools system turn; a row's system follows as a second <|system|> turn (glm-4-9b-chat).
    GLM-4-0414 (glm4_0414) has the same block without the assistant persona line."""
    text = (GLM4_SYSTEM + '\n\n' if persona else '') + '# 可用工具'
    for tool in tools:
        fn = _function(tool)
        # one newline before '##': transformers renders the template with trim_blocks
        text += (f"\n## {fn.get('name', '')}\n\n{json.dumps(fn, ensure_ascii=False, indent=4)}\n"
                 '在调用上述函数时，请使用 Json 格式表示调用的参数。')
    return f'{text}<|system|>\n{system}' if system else text


def llama3_tools_prompt(tools: List[dict], system: Optional[str]) -> str:
    """Llama 3.1/3.2's instructions; their template moves them into the first user message as Meta's does."""
    return (f'{system}\n\n' if system else '') + llama3_tools_block(tools)


def llama3_tools_block(tools: List[dict]) -> str:
    schemas = ''.join(json.dumps(t, ensure_ascii=False, indent=4) + '\n\n' for t in tools)
    return ('Given the following functions, please respond with a JSON for a function call with its proper '
            'arguments that best answers the given prompt.\n\nRespond in the format {"name": function name, '
            '"parameters": dictionary of argument name and its value}.Do not use variables.\n\n' + schemas)


def qwen_fncall_prompt(tools: List[dict], system: Optional[str], zh: bool, parallel: bool) -> str:
    """Qwen-Agent's ✿FUNCTION✿ function-calling prompt (ms-swift qwen_en/qwen_zh[_parallel])."""
    lines = []
    for tool in tools:
        fn = _function(tool)
        params = json.dumps(fn.get('parameters', {}), ensure_ascii=False)
        tail = '此工具的输入应为JSON对象。' if zh else 'Format the arguments as a JSON object.'
        lines.append(f"### {fn.get('name', '')}\n\n{fn.get('name', '')}: {fn.get('description', '')} "
                     f'{"输入参数" if zh else "Parameters"}: {params} {tail}')
    names = ','.join(_function(t).get('name', '') for t in tools)
    if zh:
        how = ('## 你可以在回复中插入以下命令以' + ('并行调用N个工具' if parallel else '调用零次或多次工具') + '：\n\n'
               f'✿FUNCTION✿: 工具名称，必须是[{names}]之一\n✿ARGS✿: 工具输入\n✿RESULT✿: 工具结果\n'
               '✿RETURN✿: 根据工具结果进行回复')
        head = '# 工具\n\n## 你拥有如下工具：\n\n'
    else:
        how = ('## Insert the following command in your reply when you need to call ' +
               ('N tools in parallel' if parallel else 'a tool, zero or more times') + ':\n\n'
               f'✿FUNCTION✿: The tool to use, one of [{names}]\n✿ARGS✿: The input of the tool\n'
               '✿RESULT✿: Tool results\n✿RETURN✿: Reply based on tool results')
        head = '# Tools\n\n## You have access to the following tools:\n\n'
    body = head + '\n\n'.join(lines) + '\n\n' + how
    return f'{system}\n\n{body}' if system else body


def mistral_tools_block(tools: List[dict]) -> str:
    """Mistral Nemo's [AVAILABLE_TOOLS] list, written key by key as its template does (strings unescaped)."""
    items = []
    for tool in tools:
        fields = [f'"{k}": "{v}"' if isinstance(v, str) else f'"{k}": {json.dumps(v, ensure_ascii=False)}'
                  for k, v in _function(tool).items() if k != 'return']
        items.append('{"type": "function", "function": {' + ', '.join(fields) + '}}')
    return '[AVAILABLE_TOOLS][' + ', '.join(items) + '][/AVAILABLE_TOOLS]'


# ----- tool calls as response text -----
def _join(content: str, text: str, sep: str = '\n') -> str:
    return f'{content}{sep}{text}' if content else text


def react_calls(content: str, calls: List[dict]) -> str:
    steps = ''.join(f"Action: {_fn(c)['name']}\nAction Input: {arguments_text(_fn(c).get('arguments', {}))}\n"
                    for c in calls)
    return content + ('\n' if content and not content.endswith('\n') else '') + steps


def hermes_calls(content: str, calls: List[dict]) -> str:
    """Qwen2.5/Qwen3: '<tool_call>\\n{"name": ..., "arguments": ...}\\n</tool_call>' blocks after the content."""
    blocks = [f'<tool_call>\n{{"name": "{_fn(c)["name"]}", "arguments": '
              f'{arguments_text(_fn(c).get("arguments", {}))}}}\n</tool_call>' for c in calls]
    return _join(content, '\n'.join(blocks))


def llama3_calls(content: str, calls: List[dict]) -> str:
    """Llama 3.1/3.2 write a tool-call turn as the bare JSON call (its content is not rendered)."""
    return '\n'.join(f'{{"name": "{_fn(c)["name"]}", "parameters": '
                     f'{arguments_text(_fn(c).get("arguments", {}))}}}' for c in calls)


def deepseek_calls(content: str, calls: List[dict]) -> str:
    """DeepSeek-V3/R1 tool-call markers; the turn's end-of-sentence follows."""
    blocks = [f"<｜tool▁call▁begin｜>{c.get('type', 'function')}<｜tool▁sep｜>{_fn(c)['name']}\n```json\n"
              f"{arguments_text(_fn(c).get('arguments', {}))}\n```<｜tool▁call▁end｜>" for c in calls]
    return f"{content}<｜tool▁calls▁begin｜>{chr(10).join(blocks)}<｜tool▁calls▁end｜>"


def glm4_calls(content: str, calls: List[dict]) -> str:
    """GLM-4: each call is an assistant turn '<|assistant|>name\\n{arguments}' (the name is the turn's metadata)."""
    parts = [f"{_fn(c)['name']}\n{arguments_text(_fn(c).get('arguments', {}))}" for c in calls]
    return content + ''.join('<|assistant|>' + p for p in parts) if content else '<|assistant|>'.join(parts)


def qwen_fncall_calls(content: str, calls: List[dict]) -> str:
    steps = ''.join(f"✿FUNCTION✿: {_fn(c)['name']}\n✿ARGS✿: {arguments_text(_fn(c).get('arguments', {}))}\n"
                    for c in calls)
    return content + ('\n' if content and not content.endswith('\n') else '') + steps


def mistral_calls(content: str, calls: List[dict]) -> str:
    """Mistral (Nemo): '[TOOL_CALLS][{"name", "arguments", "id"}]' with 9-character ids; content is not rendered."""
    items = []
    for c in calls:
        fn = _fn(c)
        args = fn.get('arguments', {})
        args = json.loads(args) if isinstance(args, str) and args.strip().startswith('{') else args
        items.append(json.dumps({'name': fn['name'], 'arguments': args}, ensure_ascii=False)[:-1] +
                     f', "id": "{c.get("id", "")}"}}')
    return '[TOOL_CALLS][' + ', '.join(items) + ']'


# What a forced call (tool_choice: a named function, or 'required' without a name) starts with, per parser. They
# stop before a space so the model's next token is the one it learned (BPE merges a space into the next word).
PREFILLS = {
    'hermes': lambda n: '<tool_call>\n{"name": "' + (f'{n}", "arguments":' if n else ''),
    'react': lambda n: 'Action:' + (f' {n}\nAction Input:' if n else ''),
    'qwen': lambda n: '✿FUNCTION✿:' + (f' {n}\n✿ARGS✿:' if n else ''),
    'llama3': lambda n: '{"name": "' + (f'{n}", "parameters":' if n else ''),
    'glm4': lambda n: f'{n}\n' if n else '',
    'deepseek': lambda n: '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>' + (
        f'{n}\n```json\n' if n else ''),
    'mistral': lambda n: '[TOOL_CALLS][{"name": "' + (f'{n}", "arguments":' if n else ''),
}


def forced_call_prefix(parser: str, tool_choice: Any) -> str:
    """The generation prefill that makes the model call a tool: tool_choice 'required' or
    {"type": "function", "function": {"name": ...}}; '' for 'auto'/'none'/None."""
    if isinstance(tool_choice, dict):
        name = (tool_choice.get('function') or {}).get('name')
        if not isinstance(name, str) or not name:
            raise TemplateError('tool_choice must name a function: {"type": "function", "function": {"name": ...}}.')
        return PREFILLS.get(parser, PREFILLS['react'])(name)
    if tool_choice == 'required':
        return PREFILLS.get(parser, PREFILLS['react'])(None)
    if tool_choice in (None, 'auto', 'none'):
        return ''
    raise TemplateError(f"tool_choice must be 'none', 'auto', 'required' or a named function, got {tool_choice!r}.")


def _react_system(texts):
    return lambda tools, system: _react(tools, system, texts)


for _name, _system, _calls, _parser in [
        ('hermes', hermes_tools_prompt, hermes_calls, 'hermes'),
        ('qwen', hermes_tools_prompt, hermes_calls, 'hermes'),  # 002's name for Qwen's (hermes) format
        ('react_en', _react_system(_REACT_EN), react_calls, 'react'),
        ('react_zh', _react_system(_REACT_ZH), react_calls, 'react'),
        ('toolbench', toolbench_tools_prompt, react_calls, 'react'),
        ('glm4', glm4_tools_prompt, glm4_calls, 'glm4'),
        ('glm4_0414', lambda tools, system: glm4_tools_prompt(tools, system, False), glm4_calls, 'glm4'),
        ('llama3', llama3_tools_prompt, llama3_calls, 'llama3'),
        ('deepseek', lambda tools, system: system, deepseek_calls, 'deepseek'),  # its template omits schemas
        ('mistral', lambda tools, system: _join(system or '', mistral_tools_block(tools), '\n\n'), mistral_calls,
         'mistral'),
        ('qwen_en', lambda t, s: qwen_fncall_prompt(t, s, False, False), qwen_fncall_calls, 'qwen'),
        ('qwen_zh', lambda t, s: qwen_fncall_prompt(t, s, True, False), qwen_fncall_calls, 'qwen'),
        ('qwen_en_parallel', lambda t, s: qwen_fncall_prompt(t, s, False, True), qwen_fncall_calls, 'qwen'),
        ('qwen_zh_parallel', lambda t, s: qwen_fncall_prompt(t, s, True, True), qwen_fncall_calls, 'qwen')]:
    register_tools_prompt(_name, _system, calls=_calls, parser=_parser,
                          observation='✿RESULT✿: ' if _parser == 'qwen' else 'Observation: ')
