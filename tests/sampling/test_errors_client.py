"""`swift sample` bad input fails in one line; the client engine (and distill) against a running `swift deploy`."""
import pytest

from swift.cli.main import cli_main
from swift.pipelines.sample import sample_main
from tests.deploy.deploy_helpers import API_KEY, DeployProcess
from .conftest import read_jsonl, sample_argv


def _error(capsys, argv):
    assert cli_main(['sample', *argv]) != 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('swift sample: error:')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    return lines[0]


@pytest.mark.parametrize('extra, expected', [
    (['--data_range', '2', '2'], '--data_range'),
    (['--data_range', '1'], '--data_range'),
    (['--orm_model', 'acuracy'], 'accuracy'),
    (['--output_file', 'x.json'], '--output_file'),
    (['--sampler_engine', 'no'], '--cache_files'),
    (['--sampler_type', 'distill'], '--sampler_engine client'),
    (['--sampler_type', 'mcts'], '--orm_model'),
    (['--max_iterations', '3'], 'MCTS'),
    (['--infer_backend', 'vllm'], '--sampler_engine'),
    (['--engine_kwargs', '{"bogus": 1}'], 'bogus'),
])
def test_bad_arguments(capsys, tmp_path, math_jsonl, extra, expected):
    assert expected in _error(capsys, sample_argv(math_jsonl, tmp_path, 'x.jsonl', *extra))


def test_existing_output_needs_override(capsys, tmp_path, math_jsonl):
    (tmp_path / 'x.jsonl').write_text('')
    assert '--override_exist_file' in _error(capsys, sample_argv(math_jsonl, tmp_path, 'x.jsonl'))


def test_unreachable_base_url(capsys, tmp_path, math_jsonl):
    line = _error(capsys, ['--dataset', math_jsonl, '--sampler_engine', 'client', '--base_url',
                           'http://127.0.0.1:9/v1', '--output_dir', str(tmp_path)])
    assert '--base_url' in line and 'cannot reach' in line


def test_client_and_distill_against_deploy(tmp_path, math_jsonl):
    server = DeployProcess(['--model', 'swift/tiny-qwen2', '--api_key', API_KEY, '--max_batch_size', '8'],
                           str(tmp_path / 'deploy.log'))
    try:
        server.wait_ready()
        common = ['--dataset', math_jsonl, '--sampler_engine', 'client', '--base_url', f'{server.base}/v1',
                  '--api_key', API_KEY, '--max_new_tokens', '6', '--num_return_sequences', '2', '--output_dir',
                  str(tmp_path), '--num_sampling_per_gpu_batch_size', '5']
        sampled = sample_main(common + ['--output_file', 'client.jsonl', '--orm_model', 'accuracy',
                                        '--n_best_to_keep', '1'])
        distilled = sample_main(common + ['--output_file', 'distill.jsonl', '--sampler_type', 'distill',
                                          '--engine_kwargs', '{"timeout": 60}'])
    finally:
        server.stop()
    assert sampled['samples'] == 10 and len(read_jsonl(sampled['output_file'])) == 5
    rows = read_jsonl(distilled['output_file'])
    assert len(rows) == 10 and all(r['messages'][-1]['role'] == 'assistant' for r in rows)
