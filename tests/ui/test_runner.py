"""The web-ui's process manager with real subprocesses: logs, exit status, stop (its own process group only),
reattaching from a second manager, and reading what a training run writes."""
import json
import os
import subprocess
import sys
import time

import pytest

from swift.ui.runner import RunManager

SLEEPER = ('import os, subprocess, sys, time\n'
           'child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])\n'
           'print("child", child.pid, flush=True)\n'
           'time.sleep(120)\n')


def _wait(predicate, timeout=30.):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def test_finished_and_failed_runs_keep_log_and_exit_code(tmp_path):
    manager = RunManager(str(tmp_path))
    ok = manager.start('sft', 'echo ok', [sys.executable, '-c', 'print("hello from the run")'])
    bad = manager.start('export', 'fail', [sys.executable, '-c', 'import sys; sys.exit("no such model")'])
    assert _wait(lambda: manager.get(ok.id).finished and manager.get(bad.id).finished)
    assert (manager.get(ok.id).status, manager.get(ok.id).returncode) == ('finished', 0)
    assert (manager.get(bad.id).status, manager.get(bad.id).returncode) == ('failed', 1)
    log = manager.read_log(manager.get(ok.id))
    assert log.startswith('$ echo ok\n') and 'hello from the run' in log
    assert 'no such model' in manager.read_log(manager.get(bad.id))
    assert {r.id for r in manager.list()} == {ok.id, bad.id}


def test_stop_ends_the_run_and_its_children_but_nothing_else(tmp_path):
    manager = RunManager(str(tmp_path))
    bystander = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
    try:
        run = manager.start('sft', 'sleeper', [sys.executable, '-c', SLEEPER])
        assert _wait(lambda: 'child' in manager.read_log(run))
        child = int(manager.read_log(run).split('child ')[1].split()[0])
        assert _alive(run.pid) and _alive(child)
        stopped = manager.stop(run.id)
        assert stopped.status == 'stopped'
        assert not _alive(run.pid)
        assert _wait(lambda: not _alive(child), 10), 'the run\'s own child survived Stop'
        assert bystander.poll() is None, 'Stop killed a process the manager did not start'
        assert manager.stop(run.id).status == 'stopped'  # stopping twice is harmless
    finally:
        bystander.kill()
        bystander.wait()


def test_a_new_manager_reattaches_to_a_running_run(tmp_path):
    first = RunManager(str(tmp_path))
    run = first.start('sft', 'sleeper', [sys.executable, '-c', 'import time; print("up", flush=True); '
                                                               'time.sleep(120)'])
    try:
        second = RunManager(str(tmp_path))  # a restarted web-ui
        listed = second.list()
        assert [r.id for r in listed] == [run.id] and listed[0].status == 'running'
        assert _wait(lambda: 'up' in second.read_log(listed[0]))
        assert second.stop(run.id).status == 'stopped'
        assert not _alive(run.pid)
    finally:
        if _alive(run.pid):
            first.stop(run.id)


def test_a_reused_pid_is_not_taken_for_the_run(tmp_path):
    manager = RunManager(str(tmp_path))
    run = manager.start('sft', 'quick', [sys.executable, '-c', 'pass'])
    assert _wait(lambda: manager.get(run.id).finished)
    record = os.path.join(manager.root, run.id, 'run.json')
    with open(record) as f:
        data = json.load(f)
    data.update(status='running', pid=os.getpid(), proc_start='0')  # our own pid, another start time
    with open(record, 'w') as f:
        json.dump(data, f)
    reopened = RunManager(str(tmp_path)).get(run.id)
    assert reopened.status == 'exited'
    assert RunManager(str(tmp_path)).stop(run.id).status == 'exited'  # and this test process was not signalled


def test_training_folder_logging_rows_and_checkpoints(tmp_path):
    manager = RunManager(str(tmp_path / 'runs'))
    out = tmp_path / 'output'
    run = manager.start('sft', 'noop', [sys.executable, '-c', 'pass'], output_dir=str(out))
    assert manager.train_dir(run) is None and manager.log_rows(run) == []
    version = out / 'v0-20260101-000000'
    (version / 'checkpoint-10').mkdir(parents=True)
    (version / 'checkpoint-2').mkdir()
    rows = [{'loss': 2.0, 'step': 1, 'global_step/max_steps': '1/10'}, {'loss': 1.5, 'step': 2}]
    text = ''.join(json.dumps(r) + '\n' for r in rows) + '{"loss": 1.'  # the trainer is mid-write
    (version / 'logging.jsonl').write_text(text)
    assert manager.train_dir(run) == str(version)
    assert manager.log_rows(run) == rows
    assert [os.path.basename(p) for p in manager.checkpoints(run)] == ['checkpoint-2', 'checkpoint-10']


@pytest.fixture(autouse=True)
def _no_leftovers(tmp_path):
    yield
    for run in RunManager(str(tmp_path)).list() if os.path.isdir(tmp_path) else []:
        if run.status == 'running':
            RunManager(str(tmp_path)).stop(run.id)


def test_a_checkpoint_that_does_not_load_is_one_line_in_the_infer_tab(tmp_path):
    from swift.ui.commands import subprocess_argv
    from swift.ui.webui.infer import free_port, wait_ready
    broken = tmp_path / 'broken'
    broken.mkdir()
    (broken / 'config.json').write_text('{"model_type": "no-such-architecture"}')
    manager = RunManager(str(tmp_path / 'runs'))
    port = free_port()
    argv = ['--ckpt_dir', str(broken), '--host', '127.0.0.1', '--port', str(port)]
    run = manager.start('deploy', 'swift deploy ...', subprocess_argv('deploy', argv))
    reason = wait_ready(manager, run.id, f'http://127.0.0.1:{port}/v1', timeout=300)
    # the line the page shows: the exception, not the traceback around it
    # refused before loading (no weights) or by the loader (unknown architecture): one line naming the dir
    assert reason is not None and 'broken' in reason and '\n' not in reason, reason
    assert not reason.startswith(('Traceback', '  File'))
    assert manager.get(run.id).status == 'failed'


def test_run_panel_progress_loss_and_log_tail(tmp_path):
    from swift.ui.webui.runs import log_tail, loss_frame, progress_text
    empty = loss_frame([])
    assert list(empty.columns) == ['step', 'loss'] and str(empty['loss'].dtype) == 'float64'  # numeric axes
    rows = [{'loss': 2.5, 'step': 1, 'global_step/max_steps': '1/4', 'elapsed': '0:00:01', 'remaining': '0:00:03'},
            {'eval_loss': 2.0, 'step': 1}, {'train_runtime': 1.0, 'step': 1}]
    frame = loss_frame(rows)
    assert frame.to_dict('records') == [{'step': 1, 'loss': 2.5}]
    manager = RunManager(str(tmp_path))
    run = manager.start('sft', 'quick', [sys.executable, '-c', 'pass'])
    text = progress_text(run, rows, 'en')
    assert '1/4 steps' in text and 'remaining 0:00:03' in text
    assert '进度' in progress_text(run, rows, 'zh')
    assert log_tail('a\nLoading:  10%\rLoading: 100%\nb', lines=2) == 'Loading: 100%\nb'
