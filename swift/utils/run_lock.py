"""One live training run per --output_dir: a lock file holding the owner's PID, stale locks taken over."""
import atexit
import os
import re
import socket
from typing import Optional

from .errors import ArgumentError

LOCK_NAME = '.swift-run.lock'


def _owner() -> str:
    return f'{os.getpid()} {socket.gethostname()}'


def _alive(text: str) -> bool:
    """Whether the lock's owner still runs (a PID on another host counts as alive: it cannot be checked)."""
    try:
        pid, host = text.split()
        pid = int(pid)
    except ValueError:
        return False  # a lock cut short by a kill
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding='utf-8') as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def acquire_output_lock(output_dir: str) -> str:
    """Create output_dir/.swift-run.lock exclusively; refuse in one line while another live run holds it."""
    os.makedirs(output_dir, exist_ok=True)
    path = os.path.join(output_dir, LOCK_NAME)
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read(path)
            if holder is None:
                continue
            if holder == _owner():
                return path
            if _alive(holder):
                raise ArgumentError(f'--output_dir {output_dir} is in use by another live run (PID '
                                    f'{holder.split()[0]}, lock {path}); wait for it to finish or choose another '
                                    '--output_dir.') from None
            os.remove(path)  # stale: its owner died (kill -9)
            continue
        with os.fdopen(fd, 'w') as f:
            f.write(_owner())
        atexit.register(release_output_lock, path)
        return path
    raise ArgumentError(f'--output_dir {output_dir}: could not take the lock {path}; remove it if no run uses it.')


def release_output_lock(path: str) -> None:
    if _read(path) == _owner():
        os.remove(path)


def claim_run_dir(output_dir: str, versioned: bool) -> str:
    """The run's directory, claimed: a versioned `v<N>-<stamp>` directory is created exclusively (the next N
    when another run took it in the same second), then locked against a second live run. Ranks of a distributed
    job must agree on one name, so there only the lock is taken (by rank 0)."""
    if versioned and int(os.environ.get('WORLD_SIZE', '1')) == 1:
        parent, name = os.path.split(os.path.normpath(output_dir))
        os.makedirs(parent, exist_ok=True)
        while True:
            try:
                os.mkdir(os.path.join(parent, name))
                break
            except FileExistsError:
                match = re.match(r'v(\d+)-(.*)$', name)
                if match is None:
                    break
                name = f'v{int(match.group(1)) + 1}-{match.group(2)}'
        output_dir = os.path.join(parent, name)
    if os.environ.get('RANK', '0') == '0':
        acquire_output_lock(output_dir)
    return output_dir
