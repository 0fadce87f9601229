"""Our own dataset formats (messages / query-response / alpaca, with system) as evaluation sets: each row's last
assistant message is the reference; answers come from the endpoint; scored with --metric."""
import asyncio
import inspect
import json
import os
from typing import Callable, Dict, List, Optional, Tuple

from swift.utils import ArgumentError, get_logger
from swift.utils.atomic import open_staged

logger = get_logger()
BUILTIN = ('acc', 'rouge')


def is_dataset_file(entry: str) -> bool:
    """A path or a dataset of our registry (with our `#N` / `:subset` syntax) rather than an evalscope benchmark."""
    from swift.dataset import DATASET_MAPPING
    from swift.dataset.syntax import DatasetSyntax
    path = DatasetSyntax.parse(entry).dataset
    return os.path.exists(path) or path.endswith(('.jsonl', '.json', '.csv', '.parquet', '.txt')) or \
        path in DATASET_MAPPING


def resolve_metric(name: Optional[str]) -> Tuple[str, Callable[[List[str], List[str]], Dict[str, List[float]]]]:
    """(name, fn(predictions, references) -> {metric: per-sample scores}); plugins come from `metrics`."""
    name = name or 'rouge'
    if name == 'acc':
        return name, lambda preds, refs: {'acc': [float(p.strip() == r.strip()) for p, r in zip(preds, refs)]}
    if name == 'rouge':
        from swift.utils.nlg_metrics import nlg_scores
        return name, nlg_scores
    from swift.plugin import metrics
    fn = metrics.get(name)
    params = inspect.signature(fn).parameters if callable(fn) else {}
    if not {'predictions', 'references'} <= set(params):
        raise ArgumentError(f'--metric {name}: `swift eval` needs a text metric fn(predictions, references) -> '
                            'dict of name -> score or per-sample scores; this one is a training metric.')
    return name, fn


def load_rows(entry: str, args) -> List[dict]:
    from swift.dataset import load_dataset
    dataset, _ = load_dataset([entry], seed=args.data_seed, num_proc=args.dataset_num_proc, strict=args.strict,
                              columns=args.columns, use_hf=args.use_hf, hub_token=args.hub_token,
                              download_mode=args.download_mode, model_name=args.model_name or None,
                              model_author=args.model_author or None)
    rows = [dict(r) for r in dataset]
    usable = [r for r in rows if r['messages'] and r['messages'][-1]['role'] == 'assistant']
    if not usable:
        raise ArgumentError(f'--eval_dataset {entry}: no row ends with an assistant answer to compare against.')
    if len(usable) < len(rows):
        logger.warning(f'{entry}: {len(rows) - len(usable)} rows without a final assistant answer skipped.')
    return usable[:args.eval_limit] if args.eval_limit else usable


async def _answer_all(client, requests, config, concurrency: int) -> List[str]:
    from tqdm import tqdm
    semaphore = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(requests), desc='eval')

    async def one(request):
        async with semaphore:
            response = await client.infer_async(request, config)
            bar.update()
            return response.choices[0].message.content or ''

    try:
        return await asyncio.gather(*(one(r) for r in requests))
    finally:
        bar.close()


def run_custom(entry: str, rows: List[dict], *, url: str, api_key: Optional[str], model: str, out_dir: str,
               args) -> List[dict]:
    """Evaluate the rows of one of our datasets (`load_rows`) against the endpoint; writes
    predictions/<name>.jsonl."""
    from swift.infer import InferClient, InferRequest, RequestConfig
    from .native import generation_config
    _, metric = resolve_metric(args.metric)
    requests = [InferRequest(r['messages'][:-1], tools=r.get('tools') or None) for r in rows]
    references = [r['messages'][-1]['content'] for r in rows]
    gen = generation_config(args)
    config = RequestConfig(max_tokens=gen.pop('max_tokens', None), temperature=gen.pop('temperature', None),
                           top_p=gen.pop('top_p', None), seed=args.seed)
    client = InferClient(base_url=url, api_key=api_key or 'EMPTY', timeout=gen.pop('timeout', 600.))
    client._models = [model]
    loop = client._loop()
    predictions = asyncio.run_coroutine_threadsafe(_answer_all(client, requests, config, args.eval_num_proc),
                                                   loop).result()
    client.close()
    scores = metric(list(predictions), references)
    name = os.path.splitext(os.path.basename(entry.split('#')[0]))[0]
    _write_predictions(os.path.join(out_dir, 'predictions', f'{name}.jsonl'), requests, predictions, references,
                       scores)
    return [dict(dataset=name, subset='default', metric=key, score=_mean(value), n=len(rows))
            for key, value in scores.items()]


def _mean(value) -> Optional[float]:
    if isinstance(value, (int, float)):
        return float(value)
    values = [float(v) for v in value if v is not None]
    return sum(values) / len(values) if values else None


def _write_predictions(path, requests, predictions, references, scores) -> None:
    per_sample = {k: v for k, v in scores.items() if isinstance(v, (list, tuple))}
    with open_staged(path) as f:
        for i, (request, pred, ref) in enumerate(zip(requests, predictions, references)):
            row = {'messages': request.messages, 'response': pred, 'reference': ref,
                   'scores': {k: v[i] for k, v in per_sample.items()}}
            f.write(json.dumps(row, ensure_ascii=False) + '\n')
