"""Loading datasets from ModelScope or the Hugging Face Hub; offline, fail within seconds with one clear line."""
import os
import socket
import threading
from typing import Optional
from urllib.parse import urlparse

from swift.utils import DatasetError, get_logger

_CONNECT_TIMEOUT = 3.0
_OFFLINE_VARS = ('HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE', 'MODELSCOPE_OFFLINE')


def hub_endpoint(use_hf: bool) -> str:
    if use_hf:
        return os.environ.get('HF_ENDPOINT', 'https://huggingface.co')
    domain = os.environ.get('MODELSCOPE_DOMAIN', 'www.modelscope.cn')
    return domain if '://' in domain else f'https://{domain}'


def _reachable(url: str) -> bool:
    """A TCP connect in a thread, so a hanging DNS lookup cannot stall the load either."""
    if any(os.environ.get(v, '').lower() in ('1', 'true', 'yes') for v in _OFFLINE_VARS):
        return False
    parsed = urlparse(url)
    result = []

    def connect():
        try:
            socket.create_connection((parsed.hostname, parsed.port or 443), timeout=_CONNECT_TIMEOUT).close()
            result.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(_CONNECT_TIMEOUT + 0.5)
    return bool(result)


def _hub_name(use_hf: bool) -> str:
    return 'the Hugging Face Hub' if use_hf else 'ModelScope'


def offline_error(dataset_id: str, use_hf: bool, registered: bool) -> DatasetError:
    what = 'registered but not packaged locally' if registered else 'not a registered dataset or an existing path'
    return DatasetError(
        f'Dataset {dataset_id!r} is {what}, and {_hub_name(use_hf)} ({hub_endpoint(use_hf)}) cannot be reached. '
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
    if not _reachable(hub_endpoint(use_hf)):
        raise offline_error(dataset_id, use_hf, registered)
    get_logger().info(f'loading {dataset_id} (subset {subset}, split {split}) from {_hub_name(use_hf)}')
    loader = _load_hf if use_hf else _load_ms
    try:
        return loader(dataset_id, subset, split, revision, streaming, hub_token, download_mode)
    except Exception as error:  # any hub/library failure becomes one readable line
        other = 'ModelScope (--use_hf false)' if use_hf else 'the Hugging Face Hub (--use_hf true)'
        detail = (str(error).splitlines() or [''])[0][:200]
        raise DatasetError(f'Could not load dataset {dataset_id!r} (subset {subset}, split {split}) from '
                           f'{_hub_name(use_hf)}: {type(error).__name__}: {detail}. '
                           f'Check the id, try {other}, or pass a local file.') from error
