"""Helpers of the deploy tests: a `swift deploy` subprocess, a random LoRA adapter, raw HTTP."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

API_KEY = 'sk-test-key'
ADAPTER = 'lora1'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def make_lora(path: str) -> str:
    """A LoRA adapter with random (non-zero) B matrices, so it changes the tiny model's output."""
    import torch
    from peft import LoraConfig, get_peft_model
    from swift.model import get_model_tokenizer
    torch.manual_seed(0)
    model, _ = get_model_tokenizer('swift/tiny-qwen2', 'float32')
    config = LoraConfig(r=8, lora_alpha=64, target_modules=['q_proj', 'v_proj'], init_lora_weights=False)
    get_peft_model(model, config).save_pretrained(path)
    return path


def http(method: str, url: str, body=None, key: str = API_KEY, raw: bytes = None):
    """(status, parsed JSON body) with the standard library, for requests the openai client will not send."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    headers = {'Content-Type': 'application/json'}
    if key:
        headers['Authorization'] = f'Bearer {key}'
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class DeployProcess:

    def __init__(self, argv, log_path):
        self.port = free_port()
        self.base = f'http://127.0.0.1:{self.port}'
        self.log_path = log_path
        self.log = open(log_path, 'w')
        cmd = [sys.executable, '-m', 'swift.cli.main', 'deploy', '--host', '127.0.0.1', '--port', str(self.port),
               *argv]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy())

    def wait_ready(self, timeout: float = 90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f'swift deploy exited with {self.proc.returncode}:\n{self.output()}')
            try:
                if http('GET', self.base + '/v1/models')[0] == 200:
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f'swift deploy did not answer in {timeout} s:\n{self.output()}')

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self) -> int:
        """SIGTERM; the server must shut down gracefully and exit 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.log.close()
