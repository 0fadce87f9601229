"""Request and response types of every inference engine, shaped like the OpenAI chat schema (ms-swift 3.x names).

Engine-side types are dataclasses (`to_dict()` gives the OpenAI JSON); the server's request bodies
(`ChatCompletionRequest`, `CompletionRequest`) are pydantic models that convert to `InferRequest` + `RequestConfig`.
"""
import dataclasses
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Optional, Tuple, Union

from pydantic import BaseModel, ConfigDict


def random_uuid() -> str:
    return uuid.uuid4().hex


def _drop_none_tool_calls(value):
    """`dataclasses.asdict` keeps every key; OpenAI omits an absent `tool_calls`."""
    if isinstance(value, dict):
        return {k: _drop_none_tool_calls(v) for k, v in value.items() if not (k == 'tool_calls' and v is None)}
    if isinstance(value, list):
        return [_drop_none_tool_calls(v) for v in value]
    return value


class _ToDict:

    def to_dict(self) -> Dict[str, Any]:
        return _drop_none_tool_calls(dataclasses.asdict(self))

    # pydantic-style alias so server code can treat both kinds of model alike
    model_dump = to_dict


# ----- requests (engine side) -----
@dataclass
class InferRequest(_ToDict):
    """One conversation: OpenAI messages (roles system/user/assistant/tool) and optional OpenAI tool schemas.
    `images` / `videos` (paths, data URLs, bytes or PIL images) fill the `<image>` / `<video>` tags of the text."""
    messages: List[Dict[str, Any]]
    images: List[Any] = field(default_factory=list)
    videos: List[Any] = field(default_factory=list)
    tools: Optional[List[Dict[str, Any]]] = None
    tool_choice: Union[str, Dict[str, Any], None] = None  # 'auto', 'required' or a named function
    parallel_tool_calls: bool = True  # False: only the first tool call is returned
    # the last message is an assistant prefix the model continues (vLLM's name) instead of a reference answer
    continue_final_message: bool = False

    def to_row(self) -> Dict[str, Any]:
        """The canonical dataset row the template encodes."""
        messages = [{**m, 'content': m.get('content') or ''} for m in self.messages]  # content: null is allowed
        row = {'messages': messages}
        for key in ('images', 'videos'):
            if getattr(self, key):
                row[key] = list(getattr(self, key))
        if self.tools:
            row['tools'] = self.tools
        if self.tool_choice not in (None, 'auto'):
            row['tool_choice'] = self.tool_choice
        if self.continue_final_message:
            row['continue_final_message'] = True
        return row

    def tool_names(self) -> List[str]:
        tools = json.loads(self.tools) if isinstance(self.tools, str) else self.tools  # a dataset row's JSON text
        return [(t.get('function') or t).get('name') for t in tools or [] if isinstance(t, dict)]


@dataclass
class RequestConfig(_ToDict):
    """Sampling settings of one request. None means: the engine's default (generation_config.json).

    temperature 0 is greedy; `stop` words are kept in the output (the eos token is removed); `n` > 1 returns
    several samples; `seed` makes sampling reproducible per request."""
    max_tokens: Optional[int] = None
    temperature: Optional[float] = None
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    repetition_penalty: Optional[float] = None
    num_beams: int = 1
    stop: Optional[List[str]] = field(default_factory=list)
    seed: Optional[int] = None
    stream: bool = False
    logprobs: bool = False
    top_logprobs: Optional[int] = None
    n: int = 1
    presence_penalty: float = 0.
    frequency_penalty: float = 0.

    def with_defaults(self, default: 'RequestConfig') -> 'RequestConfig':
        """Unset (None) fields taken from `default` (the engine's command-line settings); stop words of both."""
        values = {k: (getattr(default, k) if v is None else v) for k, v in self.__dict__.items()}
        values['stop'] = list(default.stop or []) + list(self.stop or [])
        return RequestConfig(**values)


@dataclass
class AdapterRequest(_ToDict):
    """Pick a LoRA adapter by name; `path` loads it on first use when the engine does not know the name yet."""
    name: str
    path: Optional[str] = None


# ----- responses -----
@dataclass
class UsageInfo(_ToDict):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass
class Function(_ToDict):
    name: str
    arguments: str  # a JSON string, as OpenAI sends it


@dataclass
class ChatCompletionMessageToolCall(_ToDict):
    function: Function
    type: str = 'function'
    id: str = field(default_factory=lambda: f'call_{random_uuid()[:24]}')


@dataclass
class ChatMessage(_ToDict):
    role: Literal['system', 'user', 'assistant', 'tool']
    content: Optional[str]
    tool_calls: Optional[List[ChatCompletionMessageToolCall]] = None


@dataclass
class ChatCompletionResponseChoice(_ToDict):
    index: int
    message: ChatMessage
    finish_reason: Optional[Literal['stop', 'length', 'tool_calls']]
    # OpenAI chat shape: {'content': [{'token', 'logprob', 'bytes', 'top_logprobs': [...]}]}
    logprobs: Optional[Dict[str, List[Dict[str, Any]]]] = None


@dataclass
class ChatCompletionResponse(_ToDict):
    model: str
    choices: List[ChatCompletionResponseChoice]
    usage: UsageInfo
    id: str = field(default_factory=lambda: f'chatcmpl-{random_uuid()}')
    object: str = 'chat.completion'
    created: int = field(default_factory=lambda: int(time.time()))

    def to_completion(self) -> 'CompletionResponse':
        choices = [CompletionResponseChoice(c.index, c.message.content or '', c.finish_reason, c.logprobs)
                   for c in self.choices]
        return CompletionResponse(self.model, choices, self.usage, id=self.id.replace('chatcmpl-', 'cmpl-'),
                                  created=self.created)


@dataclass
class DeltaMessage(_ToDict):
    role: Optional[str] = None
    content: Optional[str] = None
    tool_calls: Optional[List[ChatCompletionMessageToolCall]] = None


@dataclass
class ChatCompletionResponseStreamChoice(_ToDict):
    index: int
    delta: DeltaMessage
    finish_reason: Optional[Literal['stop', 'length', 'tool_calls']] = None
    logprobs: Optional[Dict[str, List[Dict[str, Any]]]] = None


@dataclass
class ChatCompletionStreamResponse(_ToDict):
    """One chunk. `usage` is the running total so far (complete on the chunk that finishes the last choice)."""
    model: str
    choices: List[ChatCompletionResponseStreamChoice]
    usage: Optional[UsageInfo] = None
    id: str = field(default_factory=lambda: f'chatcmpl-{random_uuid()}')
    object: str = 'chat.completion.chunk'
    created: int = field(default_factory=lambda: int(time.time()))

    def to_completion(self) -> 'CompletionStreamResponse':
        choices = [CompletionResponseStreamChoice(c.index, c.delta.content or '', c.finish_reason, c.logprobs)
                   for c in self.choices]
        return CompletionStreamResponse(self.model, choices, self.usage, id=self.id.replace('chatcmpl-', 'cmpl-'),
                                        created=self.created)


@dataclass
class CompletionResponseChoice(_ToDict):
    index: int
    text: str
    finish_reason: Optional[Literal['stop', 'length', 'tool_calls']]
    logprobs: Optional[Dict[str, Any]] = None


@dataclass
class CompletionResponse(_ToDict):
    model: str
    choices: List[CompletionResponseChoice]
    usage: UsageInfo
    id: str = field(default_factory=lambda: f'cmpl-{random_uuid()}')
    object: str = 'text_completion'
    created: int = field(default_factory=lambda: int(time.time()))


@dataclass
class CompletionResponseStreamChoice(_ToDict):
    index: int
    text: str
    finish_reason: Optional[Literal['stop', 'length', 'tool_calls']] = None
    logprobs: Optional[Dict[str, Any]] = None


@dataclass
class CompletionStreamResponse(_ToDict):
    model: str
    choices: List[CompletionResponseStreamChoice]
    usage: Optional[UsageInfo] = None
    id: str = field(default_factory=lambda: f'cmpl-{random_uuid()}')
    object: str = 'text_completion'
    created: int = field(default_factory=lambda: int(time.time()))


# ----- server request bodies (OpenAI fields) -----
class _OpenAIRequest(BaseModel):
    model_config = ConfigDict(extra='allow')
    model: str
    max_tokens: Optional[int] = None
    temperature: Optional[float] = None
    top_p: Optional[float] = None
    top_k: Optional[int] = None
    repetition_penalty: Optional[float] = None
    presence_penalty: float = 0.
    frequency_penalty: float = 0.
    num_beams: int = 1
    n: int = 1
    stop: Union[str, List[str], None] = None
    seed: Optional[int] = None
    stream: bool = False
    stream_options: Optional[Dict[str, Any]] = None
    user: Optional[str] = None

    def _config(self, logprobs: bool, top_logprobs: Optional[int]) -> RequestConfig:
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return RequestConfig(
            max_tokens=self.max_tokens, temperature=self.temperature, top_k=self.top_k, top_p=self.top_p,
            repetition_penalty=self.repetition_penalty, num_beams=self.num_beams, stop=stop, seed=self.seed,
            stream=self.stream, logprobs=logprobs, top_logprobs=top_logprobs, n=self.n,
            presence_penalty=self.presence_penalty, frequency_penalty=self.frequency_penalty)


class ChatCompletionRequest(_OpenAIRequest):
    messages: List[Dict[str, Any]]
    tools: Optional[List[Dict[str, Any]]] = None
    tool_choice: Union[str, Dict[str, Any], None] = None
    parallel_tool_calls: Optional[bool] = None
    max_completion_tokens: Optional[int] = None
    continue_final_message: bool = False  # a trailing assistant message is continued (else: 400)
    logprobs: bool = False
    top_logprobs: Optional[int] = None
    images: Optional[List[str]] = None  # ms-swift: media for the <image> tags besides content parts
    videos: Optional[List[str]] = None

    def parse(self) -> Tuple[InferRequest, RequestConfig]:
        tools = None if self.tool_choice == 'none' else self.tools  # 'none': the model sees no tools
        config = self._config(self.logprobs, self.top_logprobs)
        if config.max_tokens is None:
            config.max_tokens = self.max_completion_tokens
        choice = None if self.tool_choice == 'none' else self.tool_choice
        return InferRequest(messages=list(self.messages), tools=tools, tool_choice=choice,
                            parallel_tool_calls=self.parallel_tool_calls is not False), config


class CompletionRequest(_OpenAIRequest):
    """/v1/completions: the prompt is sent as one user message through the chat template (as ms-swift does)."""
    prompt: str
    logprobs: Optional[int] = None  # the completions API gives the number of top logprobs here

    def parse(self) -> Tuple[InferRequest, RequestConfig]:
        config = self._config(self.logprobs is not None, self.logprobs or None)
        return InferRequest(messages=[{'role': 'user', 'content': self.prompt}]), config
