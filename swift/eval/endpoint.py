"""The OpenAI endpoint an evaluation talks to: our own server started in this process on a free 127.0.0.1 port,
or a user's `--eval_url` (normalised to its `/v1` base and checked within seconds)."""
import socket
import threading
import time
from typing import Optional, Tuple

from swift.utils import ArgumentError, get_logger

logger = get_logger()
_SUFFIXES = ('/chat/completions', '/completions', '/models')


def normalize_url(url: str) -> Tuple[str, bool]:
    """(the `/v1`-style base URL, whether it was changed). Accepts `.../v1/chat/completions` and a trailing `/`."""
    base = url.strip().rstrip('/')
    for suffix in _SUFFIXES:
        if base.endswith(suffix):
            base = base[:-len(suffix)]
            break
    if not base.startswith(('http://', 'https://')):
        raise ArgumentError(f'--eval_url {url}: expected an http(s) URL such as http://127.0.0.1:8000/v1.')
    return base, base != url.strip()


def list_models(base_url: str, api_key: Optional[str], flag: str, timeout: float = 10.) -> list:
    """Model ids the endpoint serves; unreachable or refusing endpoints fail in one line within `timeout`."""
    import httpx
    headers = {'Authorization': f'Bearer {api_key}'} if api_key else {}
    try:
        resp = httpx.get(f'{base_url}/models', headers=headers, timeout=timeout)
    except httpx.HTTPError as e:
        raise ArgumentError(f'{flag} {base_url}: cannot reach the server ({type(e).__name__}: {e}); '
                            'start it (e.g. `swift deploy`) or fix the URL.') from None
    if resp.status_code == 401:
        raise ArgumentError(f'{flag} {base_url}: the server refused the API key (401); pass --api_key.')
    if resp.status_code != 200:
        raise ArgumentError(f'{flag} {base_url}: GET /models answered {resp.status_code}; is it an '
                            'OpenAI-compatible server?')
    models = [m['id'] for m in resp.json().get('data', [])]
    if not models:
        raise ArgumentError(f'{flag} {base_url}: GET /models lists no model.')
    return models


class LocalServer:
    """Our OpenAI server over `engine`, run by uvicorn on a daemon thread; `with LocalServer(...) as url:`."""

    def __init__(self, engine, args, startup_timeout: float = 60.):
        self.engine, self.args, self.timeout = engine, args, startup_timeout
        self.server = self.thread = None
        self.url = None

    def __enter__(self) -> str:
        import uvicorn
        from swift.infer.server import build_app
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))  # the port is ours from here on: no race with other processes
        port = sock.getsockname()[1]
        level = 'info' if self.args.verbose else 'warning'
        config = uvicorn.Config(build_app(self.engine, self.args), log_level=level,
                                timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={'sockets': [sock]}, daemon=True,
                                       name='swift-eval-server')
        self.thread.start()
        deadline = time.time() + self.timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.time() > deadline:
                raise RuntimeError('the local OpenAI server did not start; see the log above.')
            time.sleep(0.05)
        self.url = f'http://127.0.0.1:{port}/v1'
        logger.info(f'Local OpenAI server for evaluation at {self.url}')
        return self.url

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=15)
