"""Helpers of the browser tests: a `swift app|web-ui` subprocess serving a page, screenshots."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class PageServer:
    """`swift <command> --server_name 127.0.0.1 --server_port <free> ...` until stop()."""

    def __init__(self, command: str, argv, cwd: str):
        self.port = free_port()
        self.url = f'http://127.0.0.1:{self.port}/'
        self.log_path = os.path.join(cwd, f'{command}.log')
        self.log = open(self.log_path, 'w')
        env = {**os.environ, 'PYTHONPATH': os.pathsep.join(filter(None, [REPO, os.environ.get('PYTHONPATH')])),
               'GRADIO_ANALYTICS_ENABLED': 'False'}
        self.proc = subprocess.Popen([sys.executable, '-m', 'swift.cli.main', command, '--server_name', '127.0.0.1',
                                      '--server_port', str(self.port), *argv], cwd=cwd, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, timeout: float = 240):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'exited with {self.proc.returncode}:\n{self.output()[-3000:]}')
            try:
                with urllib.request.urlopen(self.url, timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f'no page at {self.url} after {timeout} s:\n{self.output()[-3000:]}')

    def output(self) -> str:
        self.log.flush()
        with open(self.log_path, encoding='utf-8', errors='replace') as f:
            return f.read()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.log.close()


def shot(page, artifacts: str, name: str) -> str:
    path = os.path.join(artifacts, f'{name}.png')
    page.screenshot(path=path, full_page=True)
    return path


def copy_to_docs(path: str) -> None:
    """SWIFT_UI_DOCS_IMAGES=docs/images refreshes the screenshots docs/ui.md shows."""
    target = os.environ.get('SWIFT_UI_DOCS_IMAGES')
    if target:
        shutil.copy(path, target)
