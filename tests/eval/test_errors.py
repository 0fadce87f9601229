"""Bad input fails in one line, before any model loads, and fast."""
import socket
import time

import pytest

from swift.cli.main import cli_main
from swift.eval import list_models, normalize_url
from swift.eval.native import _hub_reachable
from swift.utils import ArgumentError

pytest.importorskip('evalscope')


def _error(capsys, argv):
    start = time.time()
    assert cli_main(['eval', *argv]) != 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('swift eval: error:')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    return lines[0], time.time() - start


def test_unknown_benchmark(capsys):
    line, _ = _error(capsys, ['--model', 'swift/tiny-qwen2', '--eval_dataset', 'gsm8kk'])
    assert '--eval_dataset gsm8kk' in line and 'gsm8k' in line


@pytest.mark.skipif(_hub_reachable(False), reason='the hub is reachable: the benchmark would download')
def test_offline_benchmark_names_local_path(capsys):
    line, seconds = _error(capsys, ['--model', 'swift/tiny-qwen2', '--eval_dataset', 'gsm8k'])
    assert 'local_path' in line and 'gsm8k' in line and seconds < 15


def test_local_set_without_path(capsys):
    line, _ = _error(capsys, ['--model', 'swift/tiny-qwen2', '--eval_dataset', 'general_qa'])
    assert 'local_path' in line


def test_unreachable_eval_url(capsys):
    line, _ = _error(capsys, ['--eval_url', 'http://127.0.0.1:9/v1/chat/completions', '--eval_dataset', 'x.jsonl'])
    assert 'cannot reach' in line and 'http://127.0.0.1:9/v1' in line
    with socket.socket() as silent:  # a server that accepts but never answers times out within seconds too
        silent.bind(('127.0.0.1', 0))
        silent.listen()
        start = time.time()
        with pytest.raises(ArgumentError, match='cannot reach'):
            list_models(f'http://127.0.0.1:{silent.getsockname()[1]}/v1', None, '--eval_url', timeout=2)
        assert time.time() - start < 10


def test_missing_backend_package(capsys):
    line, _ = _error(capsys, ['--model', 'swift/tiny-qwen2', '--eval_backend', 'OpenCompass', '--eval_dataset',
                              'ceval'])
    assert "evalscope[opencompass]" in line


@pytest.mark.parametrize('argv, flag', [
    (['--dataset', 'd.jsonl'], '--dataset'), (['--port', '8001'], '--port'), (['--stream', 'true'], '--stream'),
    (['--eval_num_proc', '0'], '--eval_num_proc'), (['--local_dataset', 'true'], '--local_dataset')])
def test_rejected_flags(capsys, argv, flag):
    line, _ = _error(capsys, ['--model', 'swift/tiny-qwen2', '--eval_dataset', 'general_qa', *argv])
    assert flag in line


def test_unknown_metric(capsys, tmp_path):
    data = tmp_path / 'd.jsonl'
    data.write_text('{"query": "q", "response": "r"}\n')
    line, _ = _error(capsys, ['--model', 'swift/tiny-qwen2', '--eval_dataset', str(data), '--metric', 'bleuu'])
    assert '--metric bleuu' in line


def test_normalize_url():
    assert normalize_url('http://h:8000/v1/chat/completions') == ('http://h:8000/v1', True)
    assert normalize_url('http://h:8000/v1/') == ('http://h:8000/v1', True)
    assert normalize_url('http://h:8000/v1') == ('http://h:8000/v1', False)


def test_checkpoint_arguments(tmp_path):
    """An adapter checkpoint is added to --adapters; a full checkpoint replaces --model; a run dir expands."""
    from swift.arguments import parse_args
    from swift.arguments.eval_args import EvalArguments
    run = tmp_path / 'run'
    for name in ('checkpoint-10', 'checkpoint-2'):
        (run / name).mkdir(parents=True)
    (run / 'checkpoint-2' / 'adapter_config.json').write_text('{}')
    args = parse_args(EvalArguments, ['--model', 'swift/tiny-qwen2', '--eval_dataset', 'x.jsonl',
                                      '--eval_checkpoints', str(run)])
    args.validate()
    args.resolve()
    assert args.eval_checkpoints == [str(run / 'checkpoint-2'), str(run / 'checkpoint-10')]
    adapter, full = (args.for_checkpoint(p) for p in args.eval_checkpoints)
    assert adapter.model == 'swift/tiny-qwen2' and adapter.adapters == [str(run / 'checkpoint-2')]
    assert full.model == str(run / 'checkpoint-10') and full.adapters == []
    assert full.served_model_name == 'checkpoint-10'
