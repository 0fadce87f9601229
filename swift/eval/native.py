"""evalscope runners against an OpenAI endpoint: Native benchmarks, and its OpenCompass / VLMEvalKit backends."""
import importlib.util
import os
import socket
from typing import Any, Dict, List, Optional

from swift.utils import ArgumentError, SwiftError, did_you_mean, get_logger

logger = get_logger()
LOCAL_BENCHMARKS = ('general_qa', 'general_mcq')  # read from local_path, never downloaded
_BACKEND_PACKAGES = {'OpenCompass': ('opencompass', 'evalscope[opencompass]'),
                     'VLMEvalKit': ('vlmeval', 'evalscope[vlmeval]')}


def require_evalscope() -> None:
    if importlib.util.find_spec('evalscope') is None:
        raise ArgumentError("swift eval runs benchmarks with evalscope: pip install 'swift-tuner[eval]' "
                            "(or pip install -r requirements/eval.txt).")


def check_backend(backend: str) -> None:
    require_evalscope()
    if backend in _BACKEND_PACKAGES:
        module, extra = _BACKEND_PACKAGES[backend]
        if importlib.util.find_spec(module) is None:
            raise ArgumentError(f'--eval_backend {backend} needs the `{module}` package: pip install \'{extra}\'.')


def _hub_reachable(use_hf: bool, timeout: float = 3.) -> bool:
    host = 'huggingface.co' if use_hf else 'www.modelscope.cn'
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def check_benchmarks(names: List[str], dataset_args: Dict[str, Any], use_hf: bool) -> None:
    """Unknown names and offline benchmarks without data on disk fail here, in seconds, before any model loads."""
    from evalscope.api.registry import BENCHMARK_REGISTRY
    from evalscope.constants import DEFAULT_DATASET_CACHE_DIR
    missing = []
    for name in names:
        if name not in BENCHMARK_REGISTRY:
            raise ArgumentError(f'--eval_dataset {name}: not an evalscope benchmark nor a dataset file.'
                                f'{did_you_mean(name, BENCHMARK_REGISTRY)} Local sets: general_qa, general_mcq '
                                'with --eval_dataset_args local_path, or a jsonl path in our dataset formats.')
        local = (dataset_args.get(name) or {}).get('local_path')
        if local is not None:
            if not os.path.exists(local):
                raise ArgumentError(f'--eval_dataset_args {name}.local_path {local}: not found.')
            continue
        if name in LOCAL_BENCHMARKS:
            raise ArgumentError(f'--eval_dataset {name} reads local files: pass --eval_dataset_args '
                                f'\'{{"{name}": {{"local_path": "DIR", "subset_list": ["NAME"]}}}}\' '
                                '(DIR/NAME.jsonl).')
        meta = BENCHMARK_REGISTRY[name]
        dataset_id = meta.hf_dataset_id if use_hf and getattr(meta, 'hf_dataset_id', None) else meta.dataset_id
        if not (os.path.exists(dataset_id) or os.path.isdir(os.path.join(DEFAULT_DATASET_CACHE_DIR, dataset_id))):
            missing.append((name, dataset_id))
    if missing and not _hub_reachable(use_hf):
        name, dataset_id = missing[0]
        raise ArgumentError(f'--eval_dataset {name}: its data ({dataset_id}) is not on disk and the hub cannot be '
                            f'reached. Download it elsewhere, copy it here and pass --eval_dataset_args '
                            f'\'{{"{name}": {{"local_path": "/path/to/{dataset_id.split("/")[-1]}"}}}}\'.')


def run_native(names: List[str], *, url: str, model: str, api_key: Optional[str], work_dir: str, args) -> List[dict]:
    """Run the evalscope benchmarks `names`; the table rows of their reports."""
    from evalscope import TaskConfig, run_task
    fields = dict(
        model=model, api_url=url, api_key=api_key or 'EMPTY', eval_type='openai_api', datasets=names,
        dataset_args={k: v for k, v in (args.eval_dataset_args or {}).items() if k in names},
        limit=args.eval_limit, eval_batch_size=args.eval_num_proc, generation_config=generation_config(args),
        work_dir=work_dir, no_timestamp=True, seed=args.seed)
    fields.update(args.extra_eval_args or {})
    try:
        config = TaskConfig(**fields)
    except Exception as e:  # noqa: BLE001 - pydantic's ValidationError: a bad --extra_eval_args key or value
        first = str(e).splitlines()[0]
        raise ArgumentError(f'--extra_eval_args: evalscope rejected the task config: {first}') from None
    reports = _run(run_task, config)
    return [row for name in names for row in report_rows(name, reports.get(name))]


def _run(run_task, config):
    try:
        return run_task(config) or {}
    except (ConnectionError, TimeoutError) as e:
        raise SwiftError(f'evalscope could not download a benchmark ({type(e).__name__}: {str(e)[:200]}); put the '
                         'data on disk and pass its folder as local_path in --eval_dataset_args.') from None


def generation_config(args) -> Dict[str, Any]:
    config = {'max_tokens': args.max_new_tokens, 'temperature': args.temperature, 'top_p': args.top_p}
    config = {k: v for k, v in config.items() if v is not None}
    config.update(args.eval_generation_config or {})
    return config


def report_rows(name: str, report) -> List[dict]:
    """(dataset, subset, metric, score, n) rows of one evalscope Report; a metric without a score is 'unavailable'."""
    if report is None:
        return [dict(dataset=name, subset='-', metric='-', score=None, n=0, note='no report')]
    rows = []
    for metric in report.metrics:
        dims = ' '.join(f'{k}={v}' for k, v in sorted(metric.identity.dimensions.items()))
        label = f'{metric.identity.name} {dims}'.strip()
        for category in metric.categories:
            for subset in category.subsets:
                rows.append(dict(dataset=name, subset=subset.name, metric=label, score=_score(subset.score),
                                 n=subset.num))
    reason = getattr(report, 'primary_metric_unavailable_reason', None)
    if not rows or reason:
        rows.append(dict(dataset=name, subset='-', metric='primary', score=None, n=0, note=reason or 'unavailable'))
    return rows


def _score(value) -> Optional[float]:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if value != value else value  # NaN: the metric could not run


def run_backend(backend: str, names: List[str], *, url: str, model: str, api_key: Optional[str], work_dir: str,
                args) -> List[dict]:
    """OpenCompass / VLMEvalKit through evalscope's backend managers, against the same OpenAI endpoint."""
    from evalscope import TaskConfig, run_task
    chat_url = f'{url}/chat/completions'
    if backend == 'OpenCompass':
        eval_config = {'datasets': names, 'work_dir': work_dir, 'limit': args.eval_limit,
                       'models': [{'path': model, 'openai_api_base': chat_url, 'key': api_key or 'EMPTY',
                                   'is_chat': True, 'batch_size': args.eval_num_proc}]}
        if args.local_dataset:
            eval_config['dataset_dir'] = os.path.join(os.getcwd(), 'data')
    else:
        eval_config = {'data': names, 'work_dir': work_dir, 'limit': args.eval_limit, 'nproc': args.eval_num_proc,
                       'model': [{'type': model, 'name': 'CustomAPIModel', 'api_base': chat_url,
                                  'key': api_key or 'EMPTY', **generation_config(args)}]}
    eval_config.update(args.extra_eval_args or {})
    result = _run(run_task, TaskConfig(eval_backend=backend, eval_config=eval_config))
    rows = []
    for name, value in (result.items() if isinstance(result, dict) else []):
        for metric, score in (value.items() if isinstance(value, dict) else [('score', value)]):
            rows.append(dict(dataset=name, subset='-', metric=str(metric), score=_score(score), n=None))
    return rows or [dict(dataset=n, subset='-', metric='-', score=None, n=None, note=f'see {work_dir}')
                    for n in names]
