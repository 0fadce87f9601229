"""Glue between the training/export pipelines and swift/dataset/cache.py: cache keys of a run's data, the
manifest's record, the refusals' fixes, and combining cached with freshly encoded parts."""
from typing import Any, Dict


def describe_encoding(encoding: str) -> str:
    return 'swift sft/pt' if encoding in ('sft', 'generation') else f'swift rlhf --rlhf_type {encoding[5:]}'


def export_hint(encoding: str) -> str:
    mode = {'sft': 'train', 'rlhf:dpo': 'rlhf', 'rlhf:cpo': 'rlhf', 'rlhf:simpo': 'rlhf', 'rlhf:orpo': 'rlhf',
            'rlhf:rm': 'rlhf', 'rlhf:kto': 'kto'}.get(encoding)
    if mode is None:
        return 'GRPO and PPO encode prompts only: train from --dataset (--enable_cache true keeps them).'
    return f'create a cache for it with `swift export --to_cached_dataset true --template_mode {mode} ...`.'


def refuse_mismatch(flag, path, cached, run, fields=None) -> None:
    from swift.dataset import cache
    problem = cache.mismatch(cached, run, fields)
    if problem:
        raise cache.refuse(path, flag, problem, 're-create the cache with this run\'s arguments (`swift export '
                           '--to_cached_dataset true ...`) or train with the ones it was made with.')


def dataset_key(template, train_encoding: str, val_encoding: str, raw_train, raw_val):
    """The cache key of encoded --dataset rows: the encoding inputs plus a content hash of the canonical rows."""
    from swift.dataset import cache
    key = cache.encoding_key(template, train_encoding)
    key['val_encoding'] = val_encoding if raw_val is not None else None
    key['data'] = cache.rows_hash(raw_train, raw_val)
    return key


def cache_record(args) -> Dict[str, Any]:
    """What the manifest records beyond its key: where the data came from and the arguments that picked it."""
    from swift.dataset import cache
    return {'data_sources': cache.data_sources(list(args.dataset) + list(args.val_dataset)),
            'arguments': {name: getattr(args, name) for name in (
                'model', 'model_type', 'dataset', 'val_dataset', 'split_dataset_ratio', 'data_seed', 'columns',
                'model_name', 'model_author', 'strict')}}


def concat_parts(parts):
    """({split: dataset}, {split: stats}) of several (datasets, stats) parts, concatenated in order."""
    import datasets as hf_datasets
    from swift.dataset import EncodeStats
    from swift.utils import DatasetError
    out, stats = {}, {}
    for split in ('train', 'val'):
        pieces = [(d[split], s[split]) for d, s in parts if d.get(split) is not None]
        if not pieces:
            out[split] = None
            continue
        columns = {tuple(sorted(d.column_names or ())) for d, _ in pieces} if len(pieces) > 1 else ()
        if len(columns) > 1:
            raise DatasetError(f'The {split} datasets to combine have different columns ({sorted(columns)}): '
                               'use caches made with the same --template_mode and --loss_scale.')
        out[split] = pieces[0][0] if len(pieces) == 1 else hf_datasets.concatenate_datasets([d for d, _ in pieces])
        if len(pieces) == 1:
            stats[split] = pieces[0][1]
            continue
        stats[split] = EncodeStats()
        for _, one in pieces:
            stats[split].merge(one)
    return out, stats
