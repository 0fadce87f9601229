import os
import signal
import subprocess
import sys
import time

import pytest

from swift.cli.launch import torchrun_command
from swift.cli.main import ROUTES, _resolve, cli_main

SWIFT = [sys.executable, '-m', 'swift.cli.main']


def test_help_lists_every_command(capsys):
    assert cli_main(['--help']) == 0
    out = capsys.readouterr().out
    for name in ('sft', 'pt', 'rlhf', 'infer', 'deploy', 'export', 'eval', 'sample', 'app', 'web-ui'):
        assert f'  {name} ' in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith('  ') and line.split()}
    for name, route in ROUTES.items():  # a runnable route imports; an unbuilt one says so in the help
        if route.target:
            assert callable(_resolve(name)) and 'not available' not in lines[name]
        else:
            assert lines[name].endswith('(not available in this version yet)')


def test_version_and_unknown_command(capsys):
    assert cli_main(['--version']) == 0
    assert capsys.readouterr().out.startswith('swift ')
    assert cli_main(['sfx']) == 2
    assert "Did you mean: sft" in capsys.readouterr().err


def test_misspelled_argument_exits_nonzero_as_subprocess():
    proc = subprocess.run(SWIFT + ['sft', '--model', 'swift/tiny-qwen2', '--lerning_rate', '1e-4'],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.strip().splitlines() if 'error' in line]
    assert lines and '--learning_rate' in lines[-1] and 'Traceback' not in proc.stderr


def test_command_help_lists_grouped_arguments():
    proc = subprocess.run(SWIFT + ['sft', '--help'], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert 'model arguments:' in proc.stdout and '--lora_rank' in proc.stdout and '(default: 8)' in proc.stdout


def test_torchrun_command_passes_env(monkeypatch):
    monkeypatch.setenv('NPROC_PER_NODE', '2')
    monkeypatch.setenv('NNODES', '2')
    monkeypatch.setenv('NODE_RANK', '1')
    monkeypatch.setenv('MASTER_ADDR', '10.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29555')
    cmd = torchrun_command('sft', ['--model', 'a b'])
    assert cmd[:3] == [sys.executable, '-m', 'swift.distributed.torchrun']  # torchrun, one-line worker errors
    for flag in ('--nproc_per_node=2', '--nnodes=2', '--node_rank=1', '--master_addr=10.0.0.1',
                 '--master_port=29555'):
        assert flag in cmd
    assert cmd[-5:] == ['-m', 'swift.cli.main', 'sft', '--model', 'a b']  # a list, never a split string


_PARENT = '''
import sys
from swift.cli.launch import run_child
sys.exit(run_child([sys.executable, '-c', sys.argv[1]]))
'''


def _parent(child_code, **kw):
    return subprocess.Popen([sys.executable, '-c', _PARENT, child_code], **kw)


def test_child_exit_code_is_returned():
    assert _parent('import sys; sys.exit(3)').wait(timeout=60) == 3


def _wait_for(path, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and open(path).read().strip():
            return int(open(path).read())
        time.sleep(0.05)
    raise TimeoutError(path)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie counts as gone
    with open(f'/proc/{pid}/stat') as f:
        return f.read().split()[2] != 'Z'


@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGKILL])
def test_signals_reach_child_and_nothing_is_left(tmp_path, sig):
    pid_file = tmp_path / 'pid'
    code = f'import os, time; open({str(pid_file)!r}, "w").write(str(os.getpid())); time.sleep(60)'
    parent = _parent(code)
    child_pid = _wait_for(pid_file)
    parent.send_signal(sig)
    rc = parent.wait(timeout=30)
    if sig == signal.SIGTERM:
        assert rc == 128 + signal.SIGTERM  # the child's death by SIGTERM is the command's exit code
    end = time.time() + 10
    while _alive(child_pid) and time.time() < end:
        time.sleep(0.05)
    assert not _alive(child_pid)


def test_nproc_per_node_relaunches_under_torchrun(tmp_path):
    env = dict(os.environ, NPROC_PER_NODE='2', MASTER_PORT='29611', OMP_NUM_THREADS='1')
    proc = subprocess.run(SWIFT + ['sft', '--model', 'swift/tiny-qwen2', '--dataset', 'swift/self-cognition#8',
                                   '--dry_run', 'true'], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '[swift] launch plan:' in proc.stdout and '--nproc_per_node=2' in proc.stdout
    assert 'world size 2 = 1 node(s) x 2 process(es)' in proc.stdout and 'engine: data parallel (DDP)' in proc.stdout
    assert proc.stdout.count('[dry run] dataset statistics') == 2  # one per worker


@pytest.mark.parametrize('what,expect', [('models', 'tiny_qwen2'), ('templates', 'qwen2_5'),
                                         ('datasets', 'swift/self-cognition'), ('plugins', 'accuracy')])
def test_list_registries(capsys, what, expect):
    assert cli_main(['list', what]) == 0
    assert expect in capsys.readouterr().out
