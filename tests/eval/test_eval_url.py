"""`swift eval --eval_url` against a running `swift deploy` (with an API key), URL given with /chat/completions."""
import json

import pytest

from swift.pipelines.eval import eval_main
from tests.deploy.deploy_helpers import API_KEY, DeployProcess

pytest.importorskip('evalscope')


def test_eval_url_against_deploy(tmp_path, eval_sets, capsys):
    server = DeployProcess(['--model', 'swift/tiny-qwen2', '--api_key', API_KEY, '--max_new_tokens', '4',
                            '--max_batch_size', '4', '--served_model_name', 'tiny'], str(tmp_path / 'deploy.log'))
    try:
        server.wait_ready()
        result = eval_main(['--eval_url', f'{server.base}/v1/chat/completions', '--api_key', API_KEY,
                            '--eval_dataset', 'general_mcq', eval_sets['own'], '--eval_dataset_args',
                            eval_sets['dataset_args'], '--eval_output_dir', str(tmp_path / 'out'),
                            '--max_new_tokens', '4'])
    finally:
        server.stop()
    assert list(result['results']) == ['tiny']
    rows = json.load(open(result['report']))['results']
    assert {r['dataset'] for r in rows} == {'general_mcq', 'own'}
    assert all(0 <= r['score'] <= 1 for r in rows)
