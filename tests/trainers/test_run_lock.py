"""Issue 11 item 2: version directories are claimed exclusively; one live run per directory, stale locks taken."""
import os
import socket
import subprocess

import pytest

from swift.utils import ArgumentError
from swift.utils.run_lock import LOCK_NAME, acquire_output_lock, claim_run_dir, release_output_lock


def test_a_taken_version_dir_moves_to_the_next_number(tmp_path):
    (tmp_path / 'v0-20260101-000000').mkdir()
    first = claim_run_dir(str(tmp_path / 'v0-20260101-000000'), versioned=True)
    second = claim_run_dir(str(tmp_path / 'v0-20260101-000000'), versioned=True)
    assert os.path.basename(first) == 'v1-20260101-000000' and os.path.basename(second) == 'v2-20260101-000000'
    assert os.path.isfile(os.path.join(first, LOCK_NAME))


def test_live_lock_refused_stale_lock_taken_over(tmp_path):
    live = subprocess.Popen(['sleep', '30'])
    try:
        (tmp_path / LOCK_NAME).write_text(f'{live.pid} {socket.gethostname()}')
        with pytest.raises(ArgumentError, match=rf'in use by another live run \(PID {live.pid}'):
            acquire_output_lock(str(tmp_path))
    finally:
        live.kill()
        live.wait()
    path = acquire_output_lock(str(tmp_path))  # its owner is dead now
    assert (tmp_path / LOCK_NAME).read_text().split()[0] == str(os.getpid())
    release_output_lock(path)
    assert not os.path.exists(path)
