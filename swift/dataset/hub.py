"""Loading datasets from ModelScope or the Hugging Face Hub; offline, fail within seconds with one clear line."""
from typing import Optional

from swift.utils import DatasetError, get_logger, hub_endpoint, hub_name, hub_reachable


def offline_error(dataset_id: str, use_hf: bool, registered: bool) -> DatasetError:
    what = 'registered but not packaged locally' if registered else 'not a registered dataset or an existing path'
    return DatasetError(
        f'Dataset {dataset_id!r} is {what}, and {hub_name(use_hf)} ({hub_endpoint(use_hf)}) cannot be reached. '
        f'Download it where ModelScope (modelscope download --dataset {dataset_id}) or the Hugging Face Hub '
        f'(huggingface-cli download --repo-type dataset {dataset_id}) is reachable, then pass the local file or '
        'folder, e.g. --dataset /path/to/data.jsonl.')


def _load_ms(dataset_id: str, subset: str, split: str, revision: Optional[str], streaming: bool,
             hub_token: Optional[str], download_mode: str):
    from modelscope import MsDataset
    from modelscope.utils.constant import DownloadMode
    dataset = MsDataset.load(dataset_id, subset_name=subset, split=split, version=revision or 'master',
                             use_streaming=streaming, token=hub_token, download_mode=DownloadMode(download_mode))
    return dataset.to_hf_dataset() if hasattr(dataset, 'to_hf_dataset') else dataset


def _load_hf(dataset_id: str, subset: str, split: str, revision: Optional[str], streaming: bool,
             hub_token: Optional[str], download_mode: str):
    import datasets
    return datasets.load_dataset(dataset_id, name=None if subset == 'default' else subset, split=split,
                                 revision=revision, streaming=streaming, token=hub_token, download_mode=download_mode)


def load_from_hub(dataset_id: str, subset: str, split: str, *, use_hf: bool, revision: Optional[str] = None,
                  streaming: bool = False, hub_token: Optional[str] = None,
                  download_mode: str = 'reuse_dataset_if_exists', registered: bool = False):
    """The raw HF dataset (or IterableDataset when streaming) of one subset and split."""
    if not hub_reachable(use_hf):
        raise offline_error(dataset_id, use_hf, registered)
    get_logger().info(f'loading {dataset_id} (subset {subset}, split {split}) from {hub_name(use_hf)}')
    loader = _load_hf if use_hf else _load_ms
    try:
        return loader(dataset_id, subset, split, revision, streaming, hub_token, download_mode)
    except Exception as error:  # any hub/library failure becomes one readable line
        other = 'ModelScope (--use_hf false)' if use_hf else 'the Hugging Face Hub (--use_hf true)'
        detail = (str(error).splitlines() or [''])[0][:200]
        raise DatasetError(f'Could not load dataset {dataset_id!r} (subset {subset}, split {split}) from '
                           f'{hub_name(use_hf)}: {type(error).__name__}: {detail}. '
                           f'Check the id, try {other}, or pass a local file.') from error
