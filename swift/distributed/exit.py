"""How a torchrun worker ends after its command succeeded.

Left to interpreter teardown, a worker that used gloo (and DeepSpeed's shared-memory comm op) sometimes aborts
in a C++ destructor ("terminate called without an active exception", SIGABRT) after all its work is saved, and
torchrun then reports the whole run as failed. So a successful worker leaves the process group, runs the atexit
handlers (run-dir locks, temporary shards), flushes, and exits without tearing the interpreter down."""
import atexit
import logging
import os
import sys


def leave_process_group() -> None:
    dist = sys.modules.get('torch.distributed')  # a command that never imported torch has no group to leave
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.barrier()  # no rank may destroy the group while another still talks on it
        dist.destroy_process_group()


def exit_worker(code: int) -> None:
    """End this torchrun worker with `code` now (never returns)."""
    leave_process_group()
    atexit._run_exitfuncs()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)
