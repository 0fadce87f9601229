"""PtEngine: transformers models on CPU or GPU, with a batch scheduler and per-request LoRA adapters.

Requests (sync or async) become jobs on one queue; a background thread takes up to `max_batch_size` rows
(a request with n > 1 brings n rows) that use the same adapter and runs them as one DecodeBatch. While it runs,
jobs at the head of the queue with the same adapter join it at step boundaries as rows free up (continuous
batching); a job for another adapter stops the joining, so the batch drains and that job goes next.
"""
import asyncio
import json
import os
import queue
import threading
from collections import deque
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence, Union

from swift.utils import ArgumentError, get_logger, pad_token_id, parse_adapters
from .engine import InferEngine
from .protocol import AdapterRequest, InferRequest, RequestConfig
from .pt_attention import use_decode_attention
from .pt_batch import DecodeBatch
from .pt_job import DONE, Job, beam_search
from .pt_linear import pack_linears
from .pt_prefix import PrefixStore
from .tool_call import tool_call_format
from .utils import end_token_ids

logger = get_logger()


class PtEngine(InferEngine):

    def __init__(self, model_id_or_path: str, torch_dtype=None, *,
                 adapters: Union[None, Sequence[str], Dict[str, str]] = None, max_batch_size: int = 1,
                 model_type: Optional[str] = None, template=None, default_system: Optional[str] = None,
                 max_length: Optional[int] = None, attn_impl: Optional[str] = None, device_map=None,
                 model_kwargs: Optional[dict] = None, quantization_config=None, use_hf: Optional[bool] = None,
                 revision: Optional[str] = None, hub_token: Optional[str] = None,
                 default_config: Optional[RequestConfig] = None):
        from swift.model import get_model_tokenizer
        from swift.template import get_template
        model, tokenizer = get_model_tokenizer(
            model_id_or_path, torch_dtype, device_map, model_type=model_type, attn_impl=attn_impl,
            model_kwargs=model_kwargs, quantization_config=quantization_config, use_hf=use_hf, revision=revision,
            hub_token=hub_token)
        _speed_up(model, max_batch_size)  # this engine owns the model
        if not hasattr(template, 'encode'):
            template = get_template(template or tokenizer.model_meta.template, tokenizer,
                                    default_system=default_system, max_length=max_length)
        self._setup(model, template, max_batch_size, adapters, default_config)

    @classmethod
    def from_model_template(cls, model, template, max_batch_size: int = 1, *,
                            adapters: Union[None, Sequence[str], Dict[str, str]] = None,
                            default_config: Optional[RequestConfig] = None,
                            model_name: Optional[str] = None, owns_model: bool = False) -> 'PtEngine':
        """Wrap an already loaded model (a PeftModel keeps its adapters selectable) and template. A model the
        caller shares (training, tests) is left as it is; `owns_model=True` lets the engine switch it to its
        decode fast paths, which give the same outputs."""
        if owns_model:
            _speed_up(model, max_batch_size)
        engine = cls.__new__(cls)
        engine._setup(model, template, max_batch_size, adapters, default_config, model_name)
        return engine

    def _setup(self, model, template, max_batch_size, adapters, default_config, model_name=None):
        if max_batch_size < 1:
            raise ArgumentError(f'max_batch_size must be >= 1, got {max_batch_size}.')
        self.template, self.tokenizer = template, template.tokenizer
        self.model = model.eval()
        self.max_batch_size = max_batch_size
        self.default_config = default_config or RequestConfig()
        self.generation_config = getattr(model, 'generation_config', None)
        info = getattr(model, 'model_info', None) or getattr(self.tokenizer, 'model_info', None)
        self.model_name = model_name or _model_name(info, model)
        self.max_model_len = template.max_length or getattr(info, 'max_model_len', None) or getattr(
            model.config, 'max_position_embeddings', None) or 1 << 31
        self.end_ids = end_token_ids(self.tokenizer, template, self.generation_config)
        self.tool_format = tool_call_format(template)
        self.default_adapter = 'default' if getattr(model, 'peft_config', None) and 'default' in model.peft_config \
            else None
        self.adapters: Dict[str, str] = {}
        self._prefixes = PrefixStore()
        for name, path in parse_adapters(adapters).items():
            self.add_adapter(name, path)
        self._lock = threading.Lock()
        self._pending = deque()
        self._wakeup = threading.Condition(self._lock)
        self._thread = None

    # ----- adapters -----
    def add_adapter(self, name: str, path: str) -> None:
        """Load a LoRA adapter under `name` (the first unnamed one, 'default', becomes the default)."""
        from peft import PeftModel
        _refuse_hook_tuner(path)
        if isinstance(self.model, PeftModel):
            self.model.load_adapter(path, adapter_name=name)
        else:
            self.model = PeftModel.from_pretrained(self.model, path, adapter_name=name).eval()
        self.adapters[name] = path
        self._prefixes.clear()  # cached prefix KV was computed with the previous weights
        if name == 'default':
            self.default_adapter = name
        logger.info(f'Loaded adapter {name!r} from {path}')

    def _adapter_name(self, adapter_request: Optional[AdapterRequest]) -> Optional[str]:
        if adapter_request is None:
            return self.default_adapter
        name = adapter_request.name
        if name not in self.adapters and not _in_peft(self.model, name):
            if not adapter_request.path:
                raise ArgumentError(f'Unknown adapter {name!r}; loaded: {sorted(self.adapters) or "none"}.')
            self.add_adapter(name, adapter_request.path)
        return name

    @contextmanager
    def _use_adapter(self, name: Optional[str]):
        if not hasattr(self.model, 'disable_adapter'):
            yield
        elif name is None:
            with self.model.disable_adapter():
                yield
        else:
            self.model.set_adapter(name)
            yield

    # ----- requests -----
    def _job(self, request: InferRequest, config: Optional[RequestConfig], adapter_request, sink) -> Job:
        config = config or RequestConfig()
        return Job(self, request, config, self._adapter_name(adapter_request), sink)

    def infer(self, infer_requests: List[InferRequest], request_config: Optional[RequestConfig] = None, *,
              adapter_request: Optional[AdapterRequest] = None, use_tqdm: bool = False) -> list:
        """All requests are queued at once, so they are batched up to max_batch_size."""
        sinks = [queue.Queue() for _ in infer_requests]
        jobs = [self._job(r, request_config, adapter_request, s.put) for r, s in zip(infer_requests, sinks)]
        self._submit(jobs)
        if request_config is not None and request_config.stream:
            return [_iterate(sink, job) for sink, job in zip(sinks, jobs)]
        results = []
        for sink in _progress(sinks, use_tqdm):
            item = sink.get()
            if isinstance(item, BaseException):
                raise item
            results.append(item)
        return results

    async def infer_async(self, infer_request: InferRequest, request_config: Optional[RequestConfig] = None, *,
                          adapter_request: Optional[AdapterRequest] = None):
        loop, sink = asyncio.get_running_loop(), asyncio.Queue()
        # the prompt is encoded on a worker thread: a long one must not stall the server's event loop
        job = await asyncio.to_thread(self._job, infer_request, request_config, adapter_request,
                                      lambda item: loop.call_soon_threadsafe(sink.put_nowait, item))
        self._submit([job])
        if job.stream:
            return _aiterate(sink, job)
        try:
            item = await sink.get()
        except asyncio.CancelledError:  # the client went away: free the slot
            job.cancelled = True
            raise
        if isinstance(item, BaseException):
            raise item
        return item

    # ----- scheduler -----
    def _submit(self, jobs: List[Job]) -> None:
        with self._wakeup:
            self._pending.extend(jobs)
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, daemon=True, name='swift-pt-engine')
                self._thread.start()
            self._wakeup.notify()

    def _serve(self) -> None:
        while True:
            with self._wakeup:
                while not self._pending:
                    self._wakeup.wait()
                batch = self._take()
            if batch:
                self._run(batch)

    def _take(self) -> List[Job]:
        """The oldest job plus later ones with the same adapter, up to max_batch_size rows; beams run alone."""
        while self._pending and self._pending[0].cancelled:
            self._pending.popleft()
        if not self._pending:
            return []
        first = self._pending.popleft()
        batch, rows = [first], first.config.n
        if first.beam:
            return batch
        for job in list(self._pending):
            if rows >= self.max_batch_size:
                break
            if job.adapter == first.adapter and not job.beam and rows + job.config.n <= self.max_batch_size:
                self._pending.remove(job)
                batch.append(job)
                rows += job.config.n
        return batch

    def _take_more(self, adapter: Optional[str], free: int, running: List[Job]) -> list:
        """Choices of the jobs at the head of the queue that can join the running batch (same adapter, no beams,
        fitting in `free` rows); they are added to `running` so that errors reach them."""
        taken = []
        with self._wakeup:
            while self._pending:
                job = self._pending[0]
                if job.cancelled:
                    self._pending.popleft()
                    continue
                if job.adapter != adapter or job.beam or job.config.n > free:
                    break
                taken.append(self._pending.popleft())
                free -= job.config.n
        running.extend(taken)
        return [c for job in taken for c in job.choices]

    def _run(self, jobs: List[Job]) -> None:
        running, adapter = list(jobs), jobs[0].adapter
        try:
            with self._use_adapter(adapter):
                if jobs[0].beam:
                    beam_search(self.model, jobs[0])
                else:
                    choices = [c for job in jobs for c in job.choices]
                    DecodeBatch(self.model, choices, pad_token_id(self.tokenizer), _emit, max_rows=self.max_batch_size,
                                take_more=lambda free: self._take_more(adapter, free, running),
                                prefixes=self._prefixes, adapter=adapter).run()
        except Exception as e:  # noqa: BLE001 - reported to every waiting caller instead of killing the thread
            logger.exception('inference batch failed')
            for job in running:
                if not job.done and not job.cancelled:
                    job.sink(e)


def _speed_up(model, max_batch_size: int) -> None:
    use_decode_attention(model)
    pack_linears(model, max_batch_size)  # every Linear multiplies by weights packed once (CPU, oneDNN)


def _emit(active) -> None:
    """After each step: stream chunks, and the final response of every job whose choices are all finished."""
    for job in dict.fromkeys(c.job for c in active):
        try:
            job.emit_step()
        except RuntimeError:  # its caller's event loop is closed: the client is gone, so drop the job's rows
            job.cancelled = True


def _in_peft(model, name: str) -> bool:
    return name in (getattr(model, 'peft_config', None) or {})


def _model_name(info, model) -> str:
    path = getattr(info, 'model_dir', None) or getattr(model.config, '_name_or_path', None) or 'model'
    return str(path).rstrip('/').split('/')[-1]


def _iterate(sink: queue.Queue, job: Job):
    try:
        while True:
            item = sink.get()
            if item is DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        job.cancelled = True  # no effect when finished; frees the rows when the caller stopped early


async def _aiterate(sink: asyncio.Queue, job: Job):
    try:
        while True:
            item = await sink.get()
            if item is DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        job.cancelled = True


def _progress(items, use_tqdm: bool):
    if not use_tqdm:
        return items
    from tqdm import tqdm
    return tqdm(items, desc='infer')


def _refuse_hook_tuner(path: str) -> None:
    """adapter / reft directories (peft_type SWIFT_*) change the model itself: the pipeline applies them to the
    model before the engine is built (swift infer/deploy --adapters DIR); they cannot be switched per request."""
    config = os.path.join(path, 'adapter_config.json')
    if not os.path.isfile(config):
        return
    with open(config, encoding='utf-8') as f:
        peft_type = str(json.load(f).get('peft_type', ''))
    if peft_type.startswith('SWIFT_'):
        raise ArgumentError(f'{path} holds a {peft_type[6:].lower()} tuner, which changes the model itself: load '
                            'it alone at startup (swift infer / swift deploy --adapters DIR), not per request.')
