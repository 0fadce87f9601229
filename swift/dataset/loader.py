"""load_dataset: `--dataset` entries -> (train, val) datasets of canonical rows."""
import itertools
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import datasets as hf_datasets
import numpy as np

from swift.utils import DatasetError, did_you_mean, get_logger

from .builtin import SelfCognitionPreprocessor
from .hub import load_from_hub
from .arrow import CHUNK_ROWS, ArrowChunks, concatenate, rows_to_dataset
from .files import list_files, loc_kind, read_file
from .meta import DATASET_MAPPING, DatasetMeta, SubsetDataset, get_dataset_meta
from .parallel import preprocess_items
from .preprocess import RowPreprocessor, preprocess_rows
from .report import DropReport, source_id, track_stream
from .syntax import DatasetSyntax

AnyDataset = Union[hf_datasets.Dataset, hf_datasets.IterableDataset]
ItemsFactory = Callable[[], Iterable[Tuple[int, Any]]]
_PATH_HINTS = ('/', '\\', './', '../', '~')
logger = get_logger()


@dataclass
class LoadContext:
    seed: int = 42
    num_proc: int = 1
    streaming: bool = False
    use_hf: bool = False
    hub_token: Optional[str] = None
    strict: bool = False
    columns: Optional[Dict[str, str]] = None
    model_name: Any = None
    model_author: Any = None
    download_mode: str = 'reuse_dataset_if_exists'
    origins: bool = False  # tag rows with their file and line (report.ORIGIN) for encoding's errors


def parse_columns(columns: Union[None, str, Dict[str, str]]) -> Optional[Dict[str, str]]:
    if columns is None or isinstance(columns, dict):
        return columns
    try:
        parsed = json.loads(columns)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise DatasetError(f'--columns must be a JSON object such as \'{{"text1": "query"}}\', got {columns!r}.')
    return parsed


def _looks_like_path(name: str) -> bool:
    return name.startswith(_PATH_HINTS) or name.lower().endswith(('.jsonl', '.json', '.csv', '.txt'))


def resolve_meta(name: str) -> Tuple[DatasetMeta, bool]:
    """(meta, registered): registered ids first, then existing local paths, then hub ids."""
    meta = get_dataset_meta(name)
    if meta is not None:
        return meta, True
    if os.path.exists(name):
        return DatasetMeta(dataset_path=name), False
    if _looks_like_path(name):
        raise DatasetError(f'Dataset file not found: {name}.{did_you_mean(name, DATASET_MAPPING.keys())}')
    return DatasetMeta(ms_dataset_id=name, hf_dataset_id=name), False


def select_subsets(meta: DatasetMeta, names: List[str]) -> List[SubsetDataset]:
    if not names:  # one registered subset is the default, as in ms-swift
        return meta.subsets[:1] if len(meta.subsets) == 1 else [meta.subset('default') or SubsetDataset()]
    if names == ['all']:
        return [s for s in meta.subsets if not s.is_weak_subset]
    known = [s.name for s in meta.subsets]
    if meta.dataset_path or known == ['default']:  # local folders and unregistered hub ids take any subset name
        return [meta.subset(n) or SubsetDataset(subset=n) for n in names]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DatasetError(f'Dataset {meta.name} has no subset {unknown[0]!r}.{did_you_mean(unknown[0], known)} '
                           f'Subsets: {", ".join(known)}.')
    return [meta.subset(n) for n in names]


def _prepare(func: Any, ctx: LoadContext) -> Any:
    if isinstance(func, SelfCognitionPreprocessor):
        return func.with_name_author(ctx.model_name, ctx.model_author)
    return func


def _source_dir(meta: DatasetMeta, subset: SubsetDataset) -> str:
    if subset.subset == 'default':
        return meta.dataset_path
    if not os.path.isdir(meta.dataset_path):
        raise DatasetError(f'{meta.dataset_path} is a file: subsets (":{subset.subset}") apply to ids and folders.')
    return os.path.join(meta.dataset_path, subset.subset)


def _raw_dataset(items: ItemsFactory, streaming: bool) -> AnyDataset:
    def good_rows():
        yield from (row for _, row in items() if isinstance(row, dict))
    if streaming:
        return hf_datasets.IterableDataset.from_generator(good_rows)
    return rows_to_dataset(list(good_rows()))


def _apply_callable(func: Any, items: ItemsFactory, ctx: LoadContext, source: str) -> AnyDataset:
    """ms-swift allows any callable(dataset, num_proc=..., strict=...) as preprocess_func; validate its output."""
    out = func(_raw_dataset(items, ctx.streaming), num_proc=ctx.num_proc, strict=ctx.strict)
    return _run_rows(lambda: enumerate(out, 1), RowPreprocessor(), ctx, source, 'row')


def _run_rows(items: ItemsFactory, func: Any, ctx: LoadContext, source: str, kind: str) -> AnyDataset:
    """Preprocess (loc, raw) items; logs one summary line for the source and fails if nothing is usable.
    `items` is a factory because a streaming dataset is iterated again each epoch."""
    if not isinstance(func, RowPreprocessor):
        return _apply_callable(func, items, ctx, source)
    if ctx.streaming:
        return hf_datasets.IterableDataset.from_generator(_stream, gen_kwargs={
            'items': items, 'func': func, 'ctx': ctx, 'source': source, 'kind': kind})
    report = DropReport(source, kind, ctx.strict)
    origin = source_id(source, kind) if ctx.origins else None
    chunks, it = ArrowChunks(), iter(items())
    for chunk in iter(lambda: list(itertools.islice(it, CHUNK_ROWS)), []):
        chunks.add(preprocess_items(chunk, func, report, ctx.columns, ctx.num_proc, origin))
    report.log()
    report.check_not_empty()
    return chunks.dataset()


def _stream(items: ItemsFactory, func: Any, ctx: LoadContext, source: str, kind: str):
    report = track_stream(DropReport(source, kind, ctx.strict))
    origin = source_id(source, kind) if ctx.origins else None
    yield from preprocess_rows(items(), func, report, ctx.columns, origin)
    report.log()
    report.check_not_empty()


def _load_local(path: str, func: Any, ctx: LoadContext) -> AnyDataset:
    parts = [_run_rows(lambda f=f: read_file(f), func, ctx, f, loc_kind(f)) for f in list_files(path)]
    return concatenate(parts)


def _load_hub(meta: DatasetMeta, subset: SubsetDataset, func: Any, ctx: LoadContext, registered: bool):
    use_hf = ctx.use_hf if (meta.ms_dataset_id and meta.hf_dataset_id) else bool(meta.hf_dataset_id)
    dataset_id = meta.hf_dataset_id if use_hf else meta.ms_dataset_id
    revision = meta.hf_revision if use_hf else meta.ms_revision
    parts = []
    for split in subset.split or meta.split:
        raw = load_from_hub(dataset_id, subset.subset, split, use_hf=use_hf, revision=revision,
                            streaming=ctx.streaming, hub_token=ctx.hub_token, download_mode=ctx.download_mode,
                            registered=registered)
        source = f'{dataset_id}:{subset.subset}[{split}]'
        parts.append(_run_rows(lambda raw=raw: enumerate(raw, 1), func, ctx, source, 'row'))
    return concatenate(parts)


def load_one(syntax: DatasetSyntax, ctx: LoadContext) -> AnyDataset:
    meta, registered = resolve_meta(syntax.dataset)
    parts = []
    for subset in select_subsets(meta, syntax.subsets):
        func = _prepare(subset.preprocess_func or meta.preprocess_func, ctx)
        if meta.dataset_path:
            parts.append(_load_local(_source_dir(meta, subset), func, ctx))
        else:
            parts.append(_load_hub(meta, subset, func, ctx, registered))
    return concatenate(parts)


def sample_dataset(dataset: AnyDataset, n: Optional[int], rng: np.random.RandomState) -> AnyDataset:
    """ms-swift rule: N < size -> random rows without replacement; N >= size -> the whole set N // size times
    plus a random N % size remainder. Streaming datasets take the first N rows."""
    if n is None:
        return dataset
    if isinstance(dataset, hf_datasets.IterableDataset):
        return dataset.take(n)
    size = len(dataset)
    if n > size:
        logger.info(f'#{n} is more than the {size} rows: every row {n // size} times plus {n % size} random rows.')
    index = np.concatenate([np.tile(np.arange(size), n // size), rng.permutation(size)[:n % size]])
    return dataset.select(index.astype(np.int64).tolist())


def split_dataset(dataset: AnyDataset, ratio: float, rng: np.random.RandomState, n: Optional[int] = None):
    """(train, val) of one entry, as ms-swift's post_process: the validation rows (ratio of min(size, N), at least
    one) are drawn first without repeats, then the train rows are sampled to N - val from the rest, so an upsampled
    entry never repeats a validation row in training."""
    if ratio <= 0:
        return sample_dataset(dataset, n, rng), None
    if isinstance(dataset, hf_datasets.IterableDataset):
        raise DatasetError('--split_dataset_ratio needs a sized dataset; with --streaming pass --val_dataset '
                           'or set --split_dataset_ratio 0.')
    size = len(dataset)
    n = size if n is None else n
    n_val = max(1, int(min(size, n) * ratio))
    if size < 2 or n - n_val <= 0:
        return sample_dataset(dataset, n, rng), None  # too small to hold rows out
    order = rng.permutation(size)
    train, val = dataset.select(order[n_val:].tolist()), dataset.select(order[:n_val].tolist())
    return sample_dataset(train, n - n_val, rng), val


def load_dataset(datasets: Union[str, Sequence[str]], *, split_dataset_ratio: float = 0., seed: int = 42,
                 num_proc: int = 1, streaming: bool = False, use_hf: bool = False, hub_token: Optional[str] = None,
                 strict: bool = False, columns: Union[None, str, Dict[str, str]] = None,
                 model_name: Any = None, model_author: Any = None,
                 download_mode: str = 'reuse_dataset_if_exists', mix_strategy: str = 'concat',
                 interleave_probs: Optional[Sequence[float]] = None,
                 origins: bool = False) -> Tuple[AnyDataset, Optional[AnyDataset]]:
    """(train, val) of canonical rows; val is None when split_dataset_ratio == 0. Each entry is sampled (`#N`) and
    split on its own, then the entries are mixed (`mix_strategy`, see mix.py) with a seed drawn from `seed`.
    Extra source columns are kept: reward functions and metrics read them; encoding drops them. `origins` adds
    the report.ORIGIN column (file and line of each row), which encode_dataset reads and removes."""
    from .mix import check_probs, mix_datasets
    entries = [datasets] if isinstance(datasets, str) else list(datasets or [])
    if not entries:
        raise DatasetError('No dataset given; pass --dataset <id or path> (e.g. --dataset data.jsonl).')
    if mix_strategy != 'concat':
        check_probs(interleave_probs, len(entries))
    ctx = LoadContext(seed, num_proc, streaming, use_hf, hub_token, strict, parse_columns(columns), model_name,
                      model_author, download_mode, origins)
    rng = np.random.RandomState(seed)
    trains, vals = [], []
    for entry in entries:
        syntax = DatasetSyntax.parse(entry)
        train, val = split_dataset(load_one(syntax, ctx), split_dataset_ratio, rng, syntax.dataset_sample)
        trains.append(train)
        vals.append(val)
    mix_seed = int(rng.randint(0, 2**31 - 1))
    train = mix_datasets(trains, entries, mix_strategy, interleave_probs, mix_seed, 'train')
    pairs = [(e, v) for e, v in zip(entries, vals) if v is not None]
    if not pairs:
        return train, None
    if len(pairs) < len(entries):  # some entry too small to hold rows out: the others' val rows are concatenated
        mix_strategy = 'concat'
    val_names, val_parts = [e for e, _ in pairs], [v for _, v in pairs]
    return train, mix_datasets(val_parts, val_names, mix_strategy, interleave_probs, mix_seed, 'val')
