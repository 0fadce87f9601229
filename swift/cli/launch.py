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
    from swift.distributed.launch import LaunchPlan
    return LaunchPlan.from_env(command, argv).torchrun_argv()


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


# The launcher parses and checks the arguments itself, so a bad flag fails once, in one line, before any worker.
_ARGUMENTS = {'sft': 'SftArguments', 'pt': 'PtArguments', 'rlhf': 'RLHFArguments', 'infer': 'InferArguments'}


def check_arguments(command: str, argv: List[str]):
    """The parsed, validated arguments of `command` (None for a command without a known arguments class)."""
    if command not in _ARGUMENTS:
        return None
    import swift.arguments
    from swift.arguments import parse_args
    args = parse_args(getattr(swift.arguments, _ARGUMENTS[command]), argv, prog=f'swift {command}')
    args.validate()
    if hasattr(args, 'deepspeed'):
        from swift.distributed import check_training_args
        check_training_args(args)
    return args


def run_torchrun(command: str, argv: List[str]) -> int:
    """Check the environment, port and arguments, print the plan, then run torchrun (its workers die with it)."""
    from swift.distributed.launch import LaunchPlan
    plan = LaunchPlan.from_env(command, argv)
    plan.check_port()
    saved = os.environ.get('WORLD_SIZE')
    os.environ['WORLD_SIZE'] = str(plan.world_size)  # checks that depend on the process count see the workers'
    try:
        args = check_arguments(command, argv)
    finally:
        os.environ.pop('WORLD_SIZE') if saved is None else os.environ.update(WORLD_SIZE=saved)
    print(plan.describe(args), flush=True)
    return run_child(plan.torchrun_argv())
