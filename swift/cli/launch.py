"""Re-launch a command under torchrun: argv as a list (never a split string), signals forwarded,
the child's exit code returned, and the child killed with us."""
import ctypes
import os
import signal
import subprocess
import sys
from typing import List

from swift.utils import get_logger

logger = get_logger()
_PR_SET_PDEATHSIG = 1


def torchrun_command(command: str, argv: List[str]) -> List[str]:
    env = os.environ
    cmd = [sys.executable, '-m', 'torch.distributed.run',
           f'--nproc_per_node={env.get("NPROC_PER_NODE", "1")}', f'--nnodes={env.get("NNODES", "1")}',
           f'--node_rank={env.get("NODE_RANK", "0")}', f'--master_addr={env.get("MASTER_ADDR", "127.0.0.1")}',
           f'--master_port={env.get("MASTER_PORT", "29500")}']
    return cmd + ['-m', 'swift.cli.main', command] + list(argv)


def _die_with_parent():
    # Linux: the child gets SIGTERM when this process dies, even by SIGKILL, so nothing is left running.
    try:
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def run_child(cmd: List[str]) -> int:
    """Run cmd, forward SIGINT/SIGTERM/SIGHUP to it, and return its exit code."""
    child = subprocess.Popen(cmd, preexec_fn=_die_with_parent if sys.platform.startswith('linux') else None)

    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        code = child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 - code if code < 0 else code  # a child killed by signal N exits as the shell reports it


def run_torchrun(command: str, argv: List[str]) -> int:
    cmd = torchrun_command(command, argv)
    logger.info(f'Re-launching under torchrun: {" ".join(cmd)}')
    return run_child(cmd)
