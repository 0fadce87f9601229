"""One response assembly for every engine: the GPU engines' shared base (fed token by token, as vLLM reports
cumulative outputs) answers exactly what the pt engine answers for the same tokens, streamed or not, with tools."""
import asyncio

from swift.infer import InferRequest, RequestConfig
from swift.infer.backends import GpuEngine, Output

from .test_tool_call import TOOLS

CALL = 'Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


class Replay(GpuEngine):
    """The GPU engines' base with `_generate` replaying fixed tokens, one cumulative Output per token."""

    def __init__(self, template, tokens):
        self._init_template('', template)
        self.model_name, self.tokens = 'tiny', tokens

    async def _generate(self, ids, config, adapter_request):
        for i in range(1, len(self.tokens) + 1):
            ids = self.tokens[:i]
            finish = 'stop' if i == len(self.tokens) else None
            yield [Output(0, self.tokenizer.decode(ids), ids, finish)]


def _run(engine, request, stream):
    async def go():
        result = await engine.infer_async(request, RequestConfig(max_tokens=200, temperature=0, stream=stream))
        return [c async for c in result] if stream else result
    return asyncio.run(go())


def _pt_replay(engine, request, tokens, stream):
    """The pt engine's Job fed the same tokens."""
    from swift.infer.pt_job import DONE, Job
    out = []
    job = Job(engine, request, RequestConfig(max_tokens=200, temperature=0, stream=stream), None, out.append)
    for i, token in enumerate(tokens):
        job.choices[0].add(token, None)
        if i == len(tokens) - 1 and not job.choices[0].finished:
            job.choices[0]._finish('stop', flush=True)
        job.emit_step()
    return [c for c in out if c is not DONE] if stream else out[0]


def _summary(chunks):
    text = ''.join(c.choices[0].delta.content or '' for c in chunks)
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices[0].delta.tool_calls]
    roles = [c.choices[0].delta.role for c in chunks]
    return text, [[(t.function.name, t.function.arguments) for t in cs] for cs in calls], roles, \
        chunks[-1].choices[0].finish_reason


def test_gpu_base_and_pt_engine_assemble_alike(engine):
    tokens = engine.tokenizer.encode(CALL, add_special_tokens=False)
    for tools in (TOOLS, None):
        request = InferRequest([{'role': 'user', 'content': 'Weather in Paris?'}], tools=tools)
        gpu = Replay(engine.template, tokens)
        full_gpu, full_pt = _run(gpu, request, False), _pt_replay(engine, request, tokens, False)
        message = full_pt.choices[0].message
        assert full_gpu.choices[0].message.content == message.content
        assert full_gpu.choices[0].finish_reason == full_pt.choices[0].finish_reason
        if tools:
            assert message.content == 'Let me look.' and message.tool_calls[0].function.name == 'get_weather'
            assert full_pt.choices[0].finish_reason == 'tool_calls'
        else:
            assert message.content == CALL and message.tool_calls is None
        streamed_gpu, streamed_pt = _summary(_run(gpu, request, True)), _summary(_pt_replay(engine, request, tokens,
                                                                                            True))
        assert streamed_gpu == streamed_pt
        text, calls, roles, finish = streamed_pt
        assert text == message.content and roles[0] == 'assistant' and set(roles[1:]) <= {None}
        assert finish == full_pt.choices[0].finish_reason
        assert calls == ([[(c.function.name, c.function.arguments) for c in message.tool_calls]] if tools else [])
