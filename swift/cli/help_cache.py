"""`swift <command> --help` without importing torch/transformers: the text argparse printed the first time, kept
under $SWIFT_CACHE/help/ and keyed by everything that shapes it (swift's own files, the versions of the libraries
whose fields commands inherit, the Python version and the terminal width), so a changed package is a miss."""
import hashlib
import io
import os
import shutil
import sys
from contextlib import redirect_stdout
from importlib import metadata
from typing import Callable, List, Optional

from swift.utils import get_cache_dir

_LIBRARIES = ('transformers', 'trl', 'peft', 'accelerate', 'deepspeed', 'evalscope', 'gradio')
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return '-'


def help_key(command: str) -> str:
    digest = hashlib.sha256(f'{command}|{sys.version}|{shutil.get_terminal_size().columns}'.encode())
    for name in _LIBRARIES:
        digest.update(f'{name}={_version(name)};'.encode())
    for folder, dirs, files in os.walk(_PACKAGE_DIR):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(('.py', '.json')):
                stat = os.stat(os.path.join(folder, name))
                digest.update(f'{folder}/{name}:{stat.st_mtime_ns}:{stat.st_size};'.encode())
    return digest.hexdigest()[:24]


def _path(command: str) -> str:
    return os.path.join(get_cache_dir(), 'help', f'{command}-{help_key(command)}.txt')


def cached_help(command: str) -> Optional[str]:
    try:
        with open(_path(command), encoding='utf-8') as f:
            return f.read()
    except OSError:
        return None


def print_help(command: str, resolve: Callable[[], Callable[[List[str]], object]]) -> int:
    """Print the command's --help, from the cache or by running its parser once (then cached)."""
    text = cached_help(command)
    if text is None:
        buffer = io.StringIO()
        try:
            with redirect_stdout(buffer):
                resolve()(['--help'])
        except SystemExit as e:  # argparse exits after printing the help
            if e.code not in (0, None):
                raise
        text = buffer.getvalue()
        path = _path(command)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f'{path}.{os.getpid()}.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    sys.stdout.write(text)
    return 0
