"""Push a directory to ModelScope (default) or Hugging Face (--use_hf true) with the hubs' own clients."""
import os
from typing import Optional
from urllib.parse import urlparse

from swift.utils import ArgumentError, SwiftError, get_logger, hub_endpoint, hub_name, hub_reachable

logger = get_logger()
# Local bookkeeping that should not land in a model repository.
IGNORE_PATTERNS = ['images/*', 'logging.jsonl', 'runs/*', '*.lock']


def _push_hf(folder: str, repo_id: str, token: Optional[str], private: bool, commit_message: str) -> None:
    from huggingface_hub import HfApi
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, exist_ok=True)
    api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message=commit_message,
                      ignore_patterns=IGNORE_PATTERNS)


def _push_ms(folder: str, repo_id: str, token: Optional[str], private: bool, commit_message: str) -> None:
    from modelscope.hub.api import HubApi
    api = HubApi()
    if token:
        api.login(token)
    api.create_repo(repo_id, token=token, visibility='private' if private else 'public', exist_ok=True)
    api.upload_folder(repo_id, folder, commit_message=commit_message, ignore_patterns=IGNORE_PATTERNS,
                      token=token)


def push_to_hub(folder: str, hub_model_id: str, *, use_hf: bool = False, hub_token: Optional[str] = None,
                private: bool = False, commit_message: str = 'update files') -> str:
    """Create the repository if needed and upload `folder`; any failure is one line naming the hub."""
    if not os.path.isdir(folder):
        raise ArgumentError(f'Cannot push {folder}: not a directory.')
    hub = hub_name(use_hf)
    host = urlparse(hub_endpoint(use_hf)).hostname
    if not hub_reachable(use_hf):
        raise SwiftError(f'Cannot push to {hub}: {host} is not reachable (no network?). The files are in '
                         f'{folder}; push them later with --push_to_hub true --model {folder}.')
    logger.info(f'Pushing {folder} to {hub} repository {hub_model_id} ...')
    push = _push_hf if use_hf else _push_ms
    try:
        push(folder, hub_model_id, hub_token, private, commit_message)
    except Exception as e:  # hub clients raise many unrelated types (HTTP, auth, validation)
        first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise SwiftError(f'Pushing to {hub} repository {hub_model_id} failed: {first_line} '
                         '(check --hub_model_id and --hub_token).') from None
    logger.info(f'Pushed {folder} to {hub} repository {hub_model_id}.')
    return hub_model_id
