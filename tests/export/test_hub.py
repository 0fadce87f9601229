"""--push_to_hub without a reachable hub fails with one clear line (the probe answers in well under a second)."""
import pytest

from swift.pipelines.export import export_main
from swift.utils import SwiftError


@pytest.fixture
def no_hub(monkeypatch):
    # A closed local port: unreachable whether or not this machine has network.
    monkeypatch.setenv('MODELSCOPE_DOMAIN', '127.0.0.1')
    monkeypatch.setenv('HF_ENDPOINT', 'https://127.0.0.1')


@pytest.mark.parametrize('use_hf, hub', [('false', 'ModelScope'), ('true', 'the Hugging Face Hub')])
def test_push_offline_is_one_line(no_hub, ckpt, use_hf, hub):
    with pytest.raises(SwiftError, match=f'Cannot push to {hub}: 127.0.0.1 is not reachable') as info:
        export_main(['--adapters', ckpt, '--push_to_hub', 'true', '--hub_model_id', 'me/tiny', '--use_hf', use_hf])
    assert '\n' not in str(info.value) and ckpt in str(info.value)


def test_push_after_merge_names_the_merged_dir(no_hub, ckpt, tmp_path):
    out = tmp_path / 'merged'
    with pytest.raises(SwiftError, match='not reachable') as info:
        export_main(['--adapters', ckpt, '--merge_lora', 'true', '--output_dir', str(out), '--push_to_hub', 'true',
                     '--hub_model_id', 'me/tiny'])
    assert str(out) in str(info.value) and (out / 'config.json').is_file()
