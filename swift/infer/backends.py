"""What the GPU engines (vllm, lmdeploy) share: our template encodes the prompt (token ids go to the engine,
never its own chat formatting), and the engine's cumulative outputs become our responses and stream chunks."""
import asyncio
from typing import Dict, List, Optional

from .assemble import Assembler, ChoiceState
from .engine import InferEngine
from .protocol import AdapterRequest, InferRequest, RequestConfig, UsageInfo, random_uuid
from .tool_call import tool_call_format
from .utils import end_token_ids, logprob_entry, text_stop_words


class Output:
    """One choice as a GPU engine reports it so far (cumulative)."""

    def __init__(self, index: int, text: str, token_ids: List[int], finish_reason: Optional[str],
                 logprobs: Optional[List[Dict]] = None):
        self.index, self.text, self.token_ids = index, text, list(token_ids)
        self.finish_reason, self.logprobs = finish_reason, logprobs or []


class GpuEngine(InferEngine):
    """Subclasses implement `_generate(ids, config, stop, adapter_request)`: an async iterator of list[Output]."""

    def _init_template(self, model_id_or_path: str, template=None, *, model_type=None, use_hf=None, revision=None,
                       hub_token=None, default_config=None):
        """`template`: the Template the pipeline built from the arguments (swift infer/deploy), else the model
        type's default one from the same factory."""
        if template is None:
            from swift.model import get_model_tokenizer
            from swift.template import get_template
            _, tokenizer = get_model_tokenizer(model_id_or_path, load_model=False, model_type=model_type,
                                               use_hf=use_hf, revision=revision, hub_token=hub_token)
            template = get_template(tokenizer.model_meta.template, tokenizer)
        template.set_mode('infer')
        self.template, self.tokenizer = template, template.tokenizer
        self.model_dir = self.tokenizer.model_info.model_dir
        self.model_name = str(self.model_dir).rstrip('/').split('/')[-1]
        self.default_config = default_config or RequestConfig()
        self.end_ids = end_token_ids(self.tokenizer, template, None)
        self.tool_format = tool_call_format(template)

    def _merge(self, config: Optional[RequestConfig]) -> RequestConfig:
        config = (config or RequestConfig()).with_defaults(self.default_config)
        config.stop = text_stop_words(self.template, self.end_ids, config.stop)
        return config

    async def infer_async(self, infer_request: InferRequest, request_config: Optional[RequestConfig] = None, *,
                          adapter_request: Optional[AdapterRequest] = None):
        config = self._merge(request_config)
        row = infer_request.to_row()
        # off the event loop: a long prompt must not stall the server
        encoded = await asyncio.to_thread(self.template.encode, row, mode='infer')
        ids = encoded['input_ids']
        prefill = self.template.tool_prefill(row)  # a forced tool call's start, part of the output
        outputs = self._generate(ids, config, adapter_request)
        assembler = Assembler(self.model_name, infer_request, self.tool_format, prefill, bool(config.logprobs),
                              f'chatcmpl-{random_uuid()}')
        if config.stream:
            return self._stream(outputs, assembler, len(ids))
        last = None
        async for last in outputs:
            pass
        return assembler.response(_states(last), _usage(last, len(ids)))

    async def _stream(self, outputs, assembler: Assembler, n_prompt: int):
        try:
            async for outs in outputs:
                chunk = assembler.chunk(_states(outs), _usage(outs, n_prompt))
                if chunk is not None:
                    yield chunk
        finally:
            await self._abort(assembler.request_id)

    async def _abort(self, request_id: str) -> None:
        """Free the request in the engine when the consumer stopped early (engines that can, override)."""

    def _logprob_entries(self, token_ids: List[int], per_token: List[Dict[int, float]]) -> List[Dict]:
        """Entries from {token_id: logprob} maps (the chosen token is in each map)."""
        entries = []
        for token, alternatives in zip(token_ids, per_token):
            top = sorted(alternatives.items(), key=lambda kv: -kv[1])
            entries.append(logprob_entry(self.tokenizer, token, alternatives.get(token, float('nan')), top))
        return entries

    def _strip_end(self, token_ids: List[int], text: str) -> str:
        """Engines are asked to keep special tokens; remove a final end token's text (EOS is not output)."""
        if token_ids and token_ids[-1] in self.end_ids:
            end = self.tokenizer.decode([token_ids[-1]], skip_special_tokens=False)
            if text.endswith(end):
                return text[:-len(end)]
        return text


def _usage(outs: List[Output], n_prompt: int) -> UsageInfo:
    completion = sum(len(o.token_ids) for o in outs)
    return UsageInfo(n_prompt, completion, n_prompt + completion)


def _states(outs: List[Output]) -> List[ChoiceState]:
    return [ChoiceState(o.index, o.text, o.finish_reason, o.logprobs) for o in outs]
