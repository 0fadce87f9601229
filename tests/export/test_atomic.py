"""Issue 11 item 3: outputs appear complete or not at all; an incomplete checkpoint is named, never trusted."""
import os

import pytest

from swift.utils.atomic import checkpoint_problem, staged_dir, staging_path


def test_staged_dir_publishes_only_on_success(tmp_path):
    final = str(tmp_path / 'merged')
    with pytest.raises(RuntimeError):
        with staged_dir(final) as tmp:
            open(os.path.join(tmp, 'config.json'), 'w').close()
            raise RuntimeError('killed midway')
    assert not os.path.exists(final) and not os.path.exists(staging_path(final))
    os.makedirs(staging_path(final))  # what a kill -9 leaves behind
    with staged_dir(final) as tmp:
        open(os.path.join(tmp, 'model.safetensors'), 'w').close()
    assert os.listdir(final) == ['model.safetensors'] and not os.path.exists(staging_path(final))
    with staged_dir(final) as tmp:  # a rerun replaces the old output whole
        open(os.path.join(tmp, 'other.bin'), 'w').close()
    assert os.listdir(final) == ['other.bin']


def test_incomplete_checkpoint_names_the_last_complete_one(tmp_path):
    for step in (5, 10):
        (tmp_path / f'checkpoint-{step}').mkdir()
        (tmp_path / f'checkpoint-{step}' / 'trainer_state.json').write_text('{}')
    (tmp_path / 'checkpoint-15').mkdir()
    (tmp_path / '.checkpoint-20.incomplete').mkdir()
    assert checkpoint_problem(str(tmp_path / 'checkpoint-10')) is None
    for name in ('checkpoint-15', '.checkpoint-20.incomplete'):
        problem = checkpoint_problem(str(tmp_path / name))
        assert 'incomplete checkpoint' in problem and problem.endswith(f'{tmp_path / "checkpoint-10"}.')
    assert 'not a checkpoint' in checkpoint_problem(str(tmp_path))


def test_result_files_survive_a_kill_midway(tmp_path):
    """infer / eval / sample results go through open_staged: kill -9 mid-write keeps the previous file whole."""
    import subprocess
    import sys
    final = tmp_path / 'result.jsonl'
    final.write_text('{"old": 1}\n')
    code = ('import os, signal, sys\nfrom swift.utils.atomic import open_staged\n'
            'with open_staged(sys.argv[1]) as f:\n    f.write("{\\"new\\": 1}\\n"); f.flush()\n'
            '    os.kill(os.getpid(), signal.SIGKILL)\n')
    assert subprocess.run([sys.executable, '-c', code, str(final)]).returncode == -9
    assert final.read_text() == '{"old": 1}\n'
    from swift.pipelines.infer import _write_jsonl
    with pytest.raises(TypeError):
        _write_jsonl(str(final), [{'ok': 1}, {'bad': object()}])
    assert final.read_text() == '{"old": 1}\n' and not os.path.exists(staging_path(str(final)))
    _write_jsonl(str(final), [{'ok': 1}])
    assert final.read_text() == '{"ok": 1}\n'
