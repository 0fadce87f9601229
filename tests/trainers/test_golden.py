"""Golden losses: a silent change in loss normalisation, masking, data order or seeding fails here.

Exact values of fixed-seed tiny runs on CPU (fp32, one thread), logged every step with default data flags.
Regenerate only for an intended change: `python -m tests.trainers.test_golden` prints the new values."""
import json

import pytest

from swift.pipelines.rlhf import rlhf_main
from swift.pipelines.sft import sft_main
from tests.trainers.conftest import QA

# training texts end with the official template's '\n' after the last <|im_end|> (unsupervised): one more token
# per row, so the LoRA dropout draws differ from step 2 on
SFT_LOSSES = [8.23544979095459, 8.100157737731934, 8.089405059814453, 8.011754035949707, 7.9591064453125]
# rpo_alpha defaults to 1 (002): the DPO loss plus the chosen side's NLL
DPO_LOSSES = [8.928596496582031, 8.7946195602417, 8.80010986328125, 8.72136402130127, 8.673175811767578]


def _common(output_dir):
    return ['--model', 'swift/tiny-qwen2', '--output_dir', str(output_dir), '--add_version', 'false',
            '--report_to', 'none', '--split_dataset_ratio', '0', '--save_strategy', 'no', '--logging_steps', '1',
            '--max_steps', '5', '--per_device_train_batch_size', '2', '--learning_rate', '1e-3',
            '--lora_rank', '8']


def _write(path, **extra):
    path.write_text(''.join(json.dumps({'messages': [{'role': 'user', 'content': q},
                                                     {'role': 'assistant', 'content': a}], **extra}) + '\n'
                            for q, a in QA))
    return str(path)


def sft_losses(tmp_path):
    result = sft_main(['--dataset', _write(tmp_path / 'qa.jsonl'), *_common(tmp_path / 'sft')])
    return [h['loss'] for h in result['log_history'] if 'loss' in h]


def dpo_losses(tmp_path):
    data = _write(tmp_path / 'pref.jsonl', rejected_response='No no no.')
    result = rlhf_main(['--rlhf_type', 'dpo', '--dataset', data, *_common(tmp_path / 'dpo')])
    return [h['loss'] for h in result['log_history'] if 'loss' in h]


def test_sft_golden_losses(tmp_path):
    assert sft_losses(tmp_path) == pytest.approx(SFT_LOSSES, abs=2e-4)


def test_dpo_golden_losses(tmp_path):
    assert dpo_losses(tmp_path) == pytest.approx(DPO_LOSSES, abs=2e-4)


if __name__ == '__main__':
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        print('SFT_LOSSES =', sft_losses(Path(d)))
        print('DPO_LOSSES =', dpo_losses(Path(d)))
