"""The one hub network probe: a TCP connect with a short timeout, so offline use fails in seconds, never hangs."""
import os
import socket
import threading
from urllib.parse import urlparse

PROBE_TIMEOUT = 3.0
_OFFLINE_VARS = ('HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE', 'MODELSCOPE_OFFLINE')


def hub_endpoint(use_hf: bool) -> str:
    """https://huggingface.co (HF_ENDPOINT) or https://www.modelscope.cn (MODELSCOPE_DOMAIN, a bare domain)."""
    if use_hf:
        return os.environ.get('HF_ENDPOINT') or 'https://huggingface.co'
    domain = os.environ.get('MODELSCOPE_DOMAIN') or 'www.modelscope.cn'
    return domain if '://' in domain else f'https://{domain}'


def hub_name(use_hf: bool) -> str:
    return 'the Hugging Face Hub' if use_hf else 'ModelScope'


def hub_reachable(use_hf: bool, timeout: float = PROBE_TIMEOUT) -> bool:
    """False at once under HF_HUB_OFFLINE/HF_DATASETS_OFFLINE/MODELSCOPE_OFFLINE; else a TCP connect to the hub
    within `timeout` seconds (DNS included: it runs in a thread we stop waiting for)."""
    if any(os.environ.get(v, '').lower() in ('1', 'true', 'yes') for v in _OFFLINE_VARS):
        return False
    parsed = urlparse(hub_endpoint(use_hf))
    result = []

    def probe():
        try:
            socket.create_connection((parsed.hostname, parsed.port or 443), timeout=timeout).close()
            result.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result)
