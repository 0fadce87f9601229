"""LmdeployEngine: LMDeploy's TurboMind (or PyTorch) async pipeline fed with our template's token ids (GPU only;
`pip install swift-tuner[lmdeploy]` into its own GPU environment)."""
import itertools
from typing import Optional

from swift.utils import SwiftError
from .backends import GpuEngine, Output
from .protocol import RequestConfig

_session_ids = itertools.count(1)


def _import_lmdeploy():
    try:
        import lmdeploy
    except ImportError:
        raise SwiftError('--infer_backend lmdeploy needs the lmdeploy package (GPU only): install it into a separate '
                         'GPU environment with `pip install "swift-tuner[lmdeploy]"`.') from None
    return lmdeploy


class LmdeployEngine(GpuEngine):

    def __init__(self, model_id_or_path: str, torch_dtype=None, *, tp: int = 1, session_len: Optional[int] = None,
                 cache_max_entry_count: float = 0.8, quant_policy: int = 0, vision_batch_size: int = 1,
                 backend: str = 'turbomind', **template_kwargs):
        lmdeploy = _import_lmdeploy()
        self._init_template(model_id_or_path, **template_kwargs)
        config_cls = lmdeploy.TurbomindEngineConfig if backend == 'turbomind' else lmdeploy.PytorchEngineConfig
        kwargs = dict(tp=tp, session_len=session_len, cache_max_entry_count=cache_max_entry_count,
                      quant_policy=quant_policy)
        if torch_dtype in ('float16', 'bfloat16'):
            kwargs['dtype'] = torch_dtype
        self.pipe = lmdeploy.pipeline(self.model_dir, backend_config=config_cls(**kwargs),
                                      vision_config=lmdeploy.VisionConfig(max_batch_size=vision_batch_size))
        self.max_batch_size = getattr(self.pipe.backend_config, 'max_batch_size', None) or 128

    def _gen_config(self, config: RequestConfig):
        from lmdeploy import GenerationConfig
        if config.num_beams > 1:
            raise SwiftError('num_beams > 1 is not supported by the lmdeploy engine; use the pt engine.')
        temperature = config.temperature if config.temperature is not None else 1.
        return GenerationConfig(
            n=1, max_new_tokens=config.max_tokens, temperature=temperature, top_p=config.top_p or 1.,
            top_k=config.top_k or 0, repetition_penalty=config.repetition_penalty or 1., random_seed=config.seed,
            stop_words=config.stop or None, stop_token_ids=sorted(self.end_ids), skip_special_tokens=False,
            logprobs=(config.top_logprobs or 1) if config.logprobs else None, do_sample=temperature > 0)

    async def _generate(self, ids, config: RequestConfig, adapter_request, multi_modal_data=None):
        if multi_modal_data:
            # lmdeploy's vision path formats the prompt with its own chat template from OpenAI messages; prompts
            # are formatted only by our template, and its input_ids path takes no images
            raise SwiftError('The lmdeploy engine takes text-only prompts here; serve images with vllm or pt.')
        if adapter_request is not None:
            raise SwiftError('The lmdeploy engine serves no LoRA adapters here; merge them or use vllm/pt.')
        if config.n != 1:
            raise SwiftError('The lmdeploy engine returns one choice per request (n=1).')
        text, token_ids, logprobs = '', [], []
        async for out in self.pipe.generate(None, next(_session_ids), gen_config=self._gen_config(config),
                                            input_ids=ids, stream_response=True, sequence_start=True,
                                            sequence_end=True, do_preprocess=False):
            text += out.response or ''
            token_ids += list(out.token_ids or [])
            logprobs += list(out.logprobs or [])
            finish = {'stop': 'stop', 'length': 'length'}.get(out.finish_reason)
            entries = self._logprob_entries(token_ids, logprobs) if config.logprobs else None
            yield [Output(0, self._strip_end(token_ids, text) if finish else text, token_ids, finish, entries)]
