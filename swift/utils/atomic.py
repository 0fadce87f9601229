"""Outputs that appear complete or not at all: write into a hidden sibling, rename when done.

A kill -9 mid-write leaves only `.<name>.incomplete` next to where the output would be, which no command reads
as a model or checkpoint; the next write of the same output replaces it.
"""
import contextlib
import os
import re
import shutil
from typing import Iterator, Optional

INCOMPLETE = '.incomplete'
_CHECKPOINT = re.compile(r'^checkpoint-(\d+)$')


def staging_path(final: str) -> str:
    final = os.path.normpath(final)
    return os.path.join(os.path.dirname(final), f'.{os.path.basename(final)}{INCOMPLETE}')


@contextlib.contextmanager
def staged_dir(final: str, *, publish: bool = True) -> Iterator[str]:
    """Yields the staging directory to write into; on success it becomes `final` (replacing an older one).
    `publish=False` (other ranks of a distributed job) only writes; rank 0 renames."""
    tmp = staging_path(final)
    if publish and os.path.isdir(tmp):
        shutil.rmtree(tmp)  # left by a killed run
    os.makedirs(tmp, exist_ok=True)
    try:
        yield tmp
    except BaseException:
        if publish:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    if publish:
        publish_dir(tmp, final)


def publish_dir(tmp: str, final: str) -> None:
    old = None
    if os.path.lexists(final):
        old = f'{staging_path(final)}.old'
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_file(final: str) -> Iterator[str]:
    """Yields a temporary path next to `final`; renamed over `final` once the block finishes."""
    tmp = staging_path(final)
    try:
        yield tmp
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    os.replace(tmp, final)


@contextlib.contextmanager
def open_staged(final: str, mode: str = 'w') -> Iterator:
    """A text file (result jsonl, report) written under a staging name and renamed over `final` when closed: a
    killed run leaves the previous file, never half of a new one."""
    os.makedirs(os.path.dirname(os.path.abspath(final)), exist_ok=True)
    with staged_file(final) as tmp, open(tmp, mode, encoding='utf-8') as f:
        yield f


def is_complete_checkpoint(path: str) -> bool:
    """transformers writes trainer_state.json last (before rotating old checkpoints)."""
    return os.path.isfile(os.path.join(path, 'trainer_state.json'))


def last_complete_checkpoint(run_dir: str) -> Optional[str]:
    if not os.path.isdir(run_dir):
        return None
    steps = [(int(m.group(1)), name) for name in os.listdir(run_dir) if (m := _CHECKPOINT.match(name))]
    for _, name in sorted(steps, reverse=True):
        if is_complete_checkpoint(os.path.join(run_dir, name)):
            return os.path.join(run_dir, name)
    return None


def checkpoint_problem(path: str) -> Optional[str]:
    """One line saying why `path` cannot be resumed from, naming the last complete checkpoint; None if fine."""
    if is_complete_checkpoint(path):
        return None
    path = os.path.normpath(path)
    name = os.path.basename(path)
    incomplete = name.endswith(INCOMPLETE) or bool(_CHECKPOINT.match(name))
    what = 'is an incomplete checkpoint (its save was interrupted)' if incomplete else \
        'is not a checkpoint (no trainer_state.json)'
    last = last_complete_checkpoint(os.path.dirname(path)) or last_complete_checkpoint(path)
    hint = f'the last complete one is {last}' if last else 'no complete checkpoint is next to it'
    return f'--resume_from_checkpoint {path} {what}; {hint}.'
