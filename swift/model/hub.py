"""Turn `--model` into a local directory: local path, built-in tiny model, or a hub snapshot.

Offline use must never hang: hubs are probed with a short connect timeout first, and when none answers
only the local hub caches are consulted.
"""
import json
import os
from typing import List, Optional

from swift.utils import ModelError, get_logger, hub_name, hub_reachable
from swift.utils.network import PROBE_TIMEOUT

from .register import find_model
from .tiny import TINY_MODELS, get_tiny_model_dir

# Enough to read config, tokenizer and chat template without fetching weights.
CONFIG_PATTERNS = ['*.json', '*.jinja', '*.txt', '*.model', '*.tiktoken', '*.py']


def _looks_like_path(model_id: str) -> bool:
    return model_id.startswith(('/', './', '../', '~', '.\\')) or model_id.count('/') > 1 or '\\' in model_id


def _check_local_dir(path: str) -> str:
    if not os.path.isdir(path):
        raise ModelError(f'Model path {path!r} is a file; pass the directory that holds config.json.')
    if not os.path.isfile(os.path.join(path, 'config.json')):
        raise ModelError(f'Model directory {path!r} has no config.json; pass the directory that holds '
                         'config.json and the weights (for a LoRA checkpoint use --adapters).')
    return path


def check_model_files(path: str) -> None:
    """A local model dir whose weight index lists a shard that is not there fails here, before loading."""
    if not os.path.isdir(path):
        return  # a hub id: the snapshot download verifies its own files
    for index in sorted(f for f in os.listdir(path) if f.endswith('.index.json')):
        with open(os.path.join(path, index), encoding='utf-8') as f:
            shards = set((json.load(f).get('weight_map') or {}).values())
        missing = sorted(s for s in shards if not os.path.isfile(os.path.join(path, s)))
        if missing:
            more = f' and {len(missing) - 1} more' if len(missing) > 1 else ''
            raise ModelError(f'{path}: {index} lists {missing[0]}{more}, which is missing: copy or download the '
                             'missing weight files (or pass --check_model false to skip this check).')


def _snapshot(model_id: str, use_hf: bool, revision, token, local_only: bool, patterns: dict) -> str:
    if use_hf:
        from huggingface_hub import snapshot_download
        return snapshot_download(model_id, revision=revision, token=token, local_files_only=local_only,
                                 etag_timeout=PROBE_TIMEOUT, **patterns)
    from modelscope import snapshot_download
    return snapshot_download(model_id, revision=revision, token=token, local_files_only=local_only, **patterns)


def _hub_model_id(model_id: str, use_hf: bool, revision: Optional[str]):
    """Map a registered id to the chosen hub's spelling (an ms id used with --use_hf true and vice versa)."""
    model = find_model(model_id)
    if model is None:
        return model_id, revision
    if use_hf and model.hf_model_id:
        return model.hf_model_id, revision or model.hf_revision
    if not use_hf and model.ms_model_id:
        return model.ms_model_id, revision or model.ms_revision
    return model_id, revision


def download_model(model_id: str, *, use_hf: bool = False, hub_token: Optional[str] = None,
                   revision: Optional[str] = None, download_weights: bool = True,
                   ignore_patterns: Optional[List[str]] = None) -> str:
    model_id, revision = _hub_model_id(model_id, use_hf, revision)
    patterns = {'ignore_patterns': ignore_patterns} if download_weights else {'allow_patterns': CONFIG_PATTERNS}
    hub = hub_name(use_hf)
    if hub_reachable(use_hf):
        get_logger().info(f'Downloading {model_id!r} from {hub} ...')
        try:
            return _snapshot(model_id, use_hf, revision, hub_token, False, patterns)
        except Exception as e:  # hub client errors have no common base class
            first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise ModelError(f'Could not download {model_id!r} from {hub}: {first_line} Check the id, try '
                             f'--use_hf {str(not use_hf).lower()}, or pass a local model directory.') from None
    try:  # offline: a previously downloaded snapshot is still fine
        return _snapshot(model_id, use_hf, revision, hub_token, True, patterns)
    except Exception:
        pass
    prefix = f'Cannot get model {model_id!r}: it is not a local directory nor in the {hub} cache'
    if hub_reachable(not use_hf):
        raise ModelError(f'{prefix}, and {hub} cannot be reached while {hub_name(not use_hf)} can: pass '
                         f'--use_hf {str(not use_hf).lower()}, or a local model directory (--model /path/to/model).')
    raise ModelError(f'{prefix}, and neither ModelScope nor Hugging Face can be reached (no network): pass a '
                     'local model directory (--model /path/to/model), or swift/tiny-qwen2 for an offline test model.')


def resolve_model_dir(model_id_or_path: str, *, use_hf: Optional[bool] = None, hub_token: Optional[str] = None,
                      revision: Optional[str] = None, download_weights: bool = True,
                      ignore_patterns: Optional[List[str]] = None) -> str:
    """Local directory for `model_id_or_path`; network is touched only for a hub id not found locally."""
    path = os.path.expanduser(str(model_id_or_path))
    if os.path.exists(path):
        return _check_local_dir(os.path.abspath(path))
    if model_id_or_path in TINY_MODELS:
        return get_tiny_model_dir(model_id_or_path)
    if _looks_like_path(model_id_or_path):
        raise ModelError(f'Model path {model_id_or_path!r} does not exist; check the path '
                         '(hub ids look like owner/name, built-in offline models: swift/tiny-qwen2, swift/tiny-llama).')
    return download_model(model_id_or_path, use_hf=bool(use_hf), hub_token=hub_token, revision=revision,
                          download_weights=download_weights, ignore_patterns=ignore_patterns)
