"""VllmEngine: vLLM's async engine fed with our template's token ids (GPU only; `pip install swift-tuner[vllm]`
into its own GPU environment). LoRA adapters are served per request through vLLM's LoRARequest."""
from typing import Dict, Optional

from swift.utils import SwiftError, parse_adapters
from .backends import GpuEngine, Output
from .protocol import AdapterRequest, RequestConfig, random_uuid


def _import_vllm():
    try:
        import vllm
    except ImportError:
        raise SwiftError('--infer_backend vllm needs the vllm package (GPU only): install it into a separate '
                         'GPU environment with `pip install "swift-tuner[vllm]"`.') from None
    return vllm


class VllmEngine(GpuEngine):

    def __init__(self, model_id_or_path: str, torch_dtype=None, *, adapters=None,
                 gpu_memory_utilization: float = 0.9, tensor_parallel_size: int = 1, pipeline_parallel_size: int = 1,
                 max_num_seqs: int = 256, max_model_len: Optional[int] = None, disable_custom_all_reduce=False,
                 enforce_eager: bool = False, limit_mm_per_prompt: Optional[dict] = None, max_lora_rank: int = 16,
                 enable_prefix_caching: bool = False, engine_kwargs: Optional[dict] = None, **template_kwargs):
        vllm = _import_vllm()
        self._init_template(model_id_or_path, **template_kwargs)
        self.adapters = parse_adapters(adapters)
        kwargs = dict(model=self.model_dir, dtype=torch_dtype or 'auto', gpu_memory_utilization=gpu_memory_utilization,
                      tensor_parallel_size=tensor_parallel_size, pipeline_parallel_size=pipeline_parallel_size,
                      max_num_seqs=max_num_seqs, max_model_len=max_model_len, enforce_eager=enforce_eager,
                      disable_custom_all_reduce=disable_custom_all_reduce, enable_prefix_caching=enable_prefix_caching,
                      enable_lora=bool(self.adapters), max_lora_rank=max_lora_rank, trust_remote_code=True)
        if limit_mm_per_prompt:
            kwargs['limit_mm_per_prompt'] = limit_mm_per_prompt
        kwargs.update(engine_kwargs or {})
        self.engine = vllm.AsyncLLMEngine.from_engine_args(vllm.AsyncEngineArgs(**kwargs))
        self._lora_ids: Dict[str, int] = {}
        self.max_batch_size = max_num_seqs

    def _lora_request(self, adapter_request: Optional[AdapterRequest]):
        if adapter_request is None:
            if 'default' not in self.adapters:
                return None
            adapter_request = AdapterRequest('default', self.adapters['default'])
        from vllm.lora.request import LoRARequest
        path = adapter_request.path or self.adapters.get(adapter_request.name)
        if path is None:
            raise SwiftError(f'Unknown adapter {adapter_request.name!r}; loaded: {sorted(self.adapters) or "none"}.')
        lora_id = self._lora_ids.setdefault(adapter_request.name, len(self._lora_ids) + 1)
        return LoRARequest(adapter_request.name, lora_id, path)

    def _sampling_params(self, config: RequestConfig):
        from vllm import SamplingParams
        temperature = config.temperature if config.temperature is not None else 1.
        kwargs = dict(n=config.n, max_tokens=config.max_tokens, temperature=temperature, top_p=config.top_p or 1.,
                      top_k=config.top_k or -1, repetition_penalty=config.repetition_penalty or 1.,
                      presence_penalty=config.presence_penalty, frequency_penalty=config.frequency_penalty,
                      seed=config.seed, stop=config.stop, stop_token_ids=sorted(self.end_ids),
                      include_stop_str_in_output=True, skip_special_tokens=False, spaces_between_special_tokens=False,
                      logprobs=(config.top_logprobs or 0) if config.logprobs else None)
        if config.num_beams > 1:
            raise SwiftError('num_beams > 1 is not supported by the vllm engine here; use the pt engine.')
        return SamplingParams(**kwargs)

    async def _generate(self, ids, config: RequestConfig, adapter_request, multi_modal_data=None):
        from vllm.inputs import TokensPrompt
        request_id = f'swift-{random_uuid()}'
        prompt = TokensPrompt(prompt_token_ids=ids)
        if multi_modal_data:  # vLLM finds the image tokens our template expanded and fills them with these images
            prompt['multi_modal_data'] = multi_modal_data
        generator = self.engine.generate(prompt, self._sampling_params(config),
                                         request_id, lora_request=self._lora_request(adapter_request))
        async for result in generator:
            yield [self._output(o, config) for o in result.outputs]

    def _output(self, o, config: RequestConfig) -> Output:
        token_ids = list(o.token_ids)
        logprobs = None
        if config.logprobs and o.logprobs:
            per_token = [{t: lp.logprob for t, lp in step.items()} for step in o.logprobs]
            logprobs = self._logprob_entries(token_ids, per_token)
        return Output(o.index, self._strip_end(token_ids, o.text), token_ids, o.finish_reason, logprobs)
