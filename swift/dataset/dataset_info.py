"""`--custom_dataset_info file.json`: register datasets described in ms-swift's dataset_info.json format."""
import json
import os
from typing import Any, Dict, List, Union

from swift.utils import DatasetError, did_you_mean, get_logger

from .meta import DatasetMeta, SubsetDataset, register_dataset
from .preprocess import AutoPreprocessor

_META_KEYS = ('ms_dataset_id', 'hf_dataset_id', 'dataset_path', 'dataset_name', 'ms_revision', 'hf_revision',
              'subsets', 'split', 'columns', 'tags', 'help', 'huge_dataset')
_SUBSET_KEYS = ('name', 'subset', 'split', 'columns', 'is_weak_subset')


def _check_keys(entry: Any, allowed, where: str) -> None:
    if not isinstance(entry, dict):
        raise DatasetError(f'{where}: each entry must be a JSON object, got {type(entry).__name__}.')
    for key in entry:
        if key not in allowed:
            raise DatasetError(f'{where}: unknown key {key!r}.{did_you_mean(key, allowed)}')


def _subset(item: Any, where: str) -> Union[str, SubsetDataset]:
    if isinstance(item, str):
        return item
    _check_keys(item, _SUBSET_KEYS, where)
    item = dict(item)
    columns = item.pop('columns', None)
    return SubsetDataset(**item, preprocess_func=AutoPreprocessor(columns=columns) if columns else None)


def _meta(entry: Dict[str, Any], base_dir: str, where: str) -> DatasetMeta:
    _check_keys(entry, _META_KEYS, where)
    entry = dict(entry)
    if entry.get('dataset_path') and not os.path.isabs(entry['dataset_path']):
        entry['dataset_path'] = os.path.normpath(os.path.join(base_dir, entry['dataset_path']))
    entry['subsets'] = [_subset(s, where) for s in entry.get('subsets') or ['default']]
    entry['preprocess_func'] = AutoPreprocessor(columns=entry.pop('columns', None))
    try:
        return DatasetMeta(**entry)
    except ValueError as error:
        raise DatasetError(f'{where}: {error}') from None


def _read(path_or_json: Union[str, list, dict]):
    """(entries, base dir for relative paths, name for messages)."""
    if not isinstance(path_or_json, str):
        return path_or_json, os.getcwd(), 'dataset info'
    if os.path.isfile(path_or_json):
        with open(path_or_json, encoding='utf-8') as f:
            try:
                return json.load(f), os.path.dirname(os.path.abspath(path_or_json)), path_or_json
            except ValueError as error:
                raise DatasetError(f'{path_or_json}: not valid JSON ({error}).') from None
    try:
        return json.loads(path_or_json), os.getcwd(), 'dataset info'
    except ValueError:
        raise DatasetError(f'--custom_dataset_info: no such file and not JSON: {path_or_json}') from None


def register_dataset_info(path_or_json: Union[str, list, dict]) -> List[DatasetMeta]:
    """Register every entry (re-registering the same name replaces it); returns the metas."""
    entries, base_dir, where = _read(path_or_json)
    entries = [entries] if isinstance(entries, dict) else entries
    if not isinstance(entries, list):
        raise DatasetError(f'{where}: expected a JSON list of dataset entries.')
    metas = [register_dataset(_meta(e, base_dir, f'{where} entry {i}'), exist_ok=True)
             for i, e in enumerate(entries, 1)]
    get_logger().info(f'{where}: registered {", ".join(m.name for m in metas)}')
    return metas
