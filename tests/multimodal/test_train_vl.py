"""Training the tiny VL model: LoRA on the LLM only, reload with identical logits, full fine-tuning with per-part
learning rates, packing, DPO and KTO with images, --dry_run (GRPO: test_grpo_vl.py)."""
import json
import os

import pytest
import torch
from PIL import Image

from swift.model import get_model_tokenizer
from swift.pipelines.rlhf import rlhf_main
from swift.pipelines.sft import sft_main
from swift.template import get_template

COMMON = ['--model', 'swift/tiny-qwen2-vl', '--dataset', 'swift/shapes-vqa', '--add_version', 'false',
          '--report_to', 'none', '--split_dataset_ratio', '0', '--save_strategy', 'no', '--plot_loss', 'false',
          '--per_device_train_batch_size', '4', '--logging_steps', '1']


def _image_batch(template):
    row = {'messages': [{'role': 'user', 'content': '<image>What shape is in the picture?'},
                        {'role': 'assistant', 'content': 'A circle.'}], 'images': [Image.new('RGB', (56, 84), 'red')]}
    return template.data_collator([template.encode(row)])


def _logits(model, batch):
    with torch.no_grad():
        return model(**batch, use_cache=False).logits


def test_lora_trains_llm_only_and_reloads_identically(tmp_path):
    from peft import PeftModel
    result = sft_main(COMMON + ['--max_steps', '4', '--learning_rate', '5e-3', '--output_dir', str(tmp_path)])
    losses = [h['loss'] for h in result['log_history'] if 'loss' in h]
    assert losses[-1] < losses[0]
    ckpt = result['last_model_checkpoint']
    config = json.load(open(os.path.join(ckpt, 'adapter_config.json')))
    trained = result['trainer'].model
    lora_modules = [n for n, _ in trained.named_modules() if n.endswith('lora_A')]
    assert lora_modules and all('language_model' in n for n in lora_modules)  # vision tower untouched
    assert set(config['target_modules']) == {'q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj',
                                             'down_proj'}
    assert os.path.isfile(os.path.join(ckpt, 'processor_config.json'))
    base, tok = get_model_tokenizer('swift/tiny-qwen2-vl')
    template = get_template('qwen2_vl', tok)
    batch = _image_batch(template)
    base_logits = _logits(base, batch)
    reloaded = PeftModel.from_pretrained(base, ckpt).eval()
    trained.eval()
    assert torch.equal(_logits(reloaded, batch), _logits(trained, batch))
    assert not torch.allclose(_logits(reloaded, batch), base_logits)


def test_full_training_with_vit_and_aligner_learning_rates(tmp_path):
    result = sft_main(COMMON + ['--max_steps', '2', '--train_type', 'full', '--freeze_vit', 'false',
                                '--freeze_aligner', 'false', '--learning_rate', '1e-4', '--vit_lr', '1e-3',
                                '--aligner_lr', '2e-3',
                                '--output_dir', str(tmp_path)])
    trainer = result['trainer']
    model = trainer.model
    lr_of = {id(p): g['initial_lr'] for g in trainer.optimizer.param_groups for p in g['params']}
    named = dict(model.named_parameters())
    assert lr_of[id(named['model.visual.blocks.0.attn.qkv.weight'])] == 1e-3
    assert lr_of[id(named['model.visual.merger.mlp.0.weight'])] == 2e-3
    assert lr_of[id(named['model.language_model.layers.0.self_attn.q_proj.weight'])] == 1e-4
    # The vision tower really trained: its weights moved from the saved base.
    base, _ = get_model_tokenizer('swift/tiny-qwen2-vl')
    assert not torch.equal(base.model.visual.blocks[0].attn.qkv.weight, model.model.visual.blocks[0].attn.qkv.weight)


def test_part_learning_rate_of_a_frozen_part_is_refused(tmp_path):
    from swift.utils import ArgumentError
    with pytest.raises(ArgumentError, match='--aligner_lr 0.002: nothing of the aligner part trains'):
        sft_main(COMMON + ['--max_steps', '1', '--train_type', 'full', '--aligner_lr', '2e-3',
                           '--output_dir', str(tmp_path)])


def test_full_training_freezes_the_vision_tower_by_default(tmp_path):
    result = sft_main(COMMON + ['--max_steps', '1', '--train_type', 'full', '--learning_rate', '1e-3',
                                '--output_dir', str(tmp_path)])
    model = result['trainer'].model
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert not any(n.startswith('model.visual') for n in trainable)
    assert any(n.startswith('model.language_model') for n in trainable)


def test_packing_trains_on_image_rows(tmp_path):
    result = sft_main(COMMON + ['--max_steps', '2', '--packing', 'true', '--max_length', '256',
                                '--output_dir', str(tmp_path)])
    losses = [h['loss'] for h in result['log_history'] if 'loss' in h]
    assert len(losses) == 2 and all(loss == loss for loss in losses)


def test_dry_run_shows_vision_tokens_and_resized_sizes(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv('MAX_PIXELS', str(28 * 28))  # every 56x56 image is resized down to 28x28: one token
    sft_main(['--model', 'swift/tiny-qwen2-vl', '--dataset', 'swift/shapes-vqa', '--dry_run', 'true',
              '--output_dir', str(tmp_path)])
    out = capsys.readouterr().out
    assert '<|vision_start|><|image_pad|><|vision_end|>' in out
    assert 'image 1: 1 tokens at positions 15..15, resized to 28x28 px (grid 1x2x2 of 14px patches)' in out


def _preference_file(tmp_path):
    from swift.dataset.shapes import data_url, draw
    rows = [{'messages': [{'role': 'user', 'content': '<image>What shape?'},
                          {'role': 'assistant', 'content': f'A {shape}.'}],
             'rejected_response': 'A banana.', 'images': [data_url(draw(shape, 'red'))]}
            for shape in ('circle', 'square', 'triangle', 'diamond')]
    path = tmp_path / 'pref.jsonl'
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    return str(path)


def _rlhf_with_images(tmp_path, rlhf_type: str, rows: int):
    """Two steps of `rlhf_type` on image preference rows; the run, one collated batch of `rows` and the image id."""
    result = rlhf_main(['--rlhf_type', rlhf_type, '--model', 'swift/tiny-qwen2-vl', '--dataset',
                        _preference_file(tmp_path), '--max_steps', '2', '--output_dir', str(tmp_path / 'out')]
                       + COMMON[4:])
    trainer = result['trainer']
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(rows)])
    return result, batch, trainer.processing_class.processor.image_token_id


def test_dpo_with_images(tmp_path):
    result, batch, image_id = _rlhf_with_images(tmp_path, 'dpo', 2)
    assert batch['input_ids'].shape[0] == 4 and batch['image_grid_thw'].shape[0] == 4
    assert (batch['input_ids'] == image_id).sum() == batch['image_grid_thw'].prod(-1).sum() // 4
    assert batch['mm_token_type_ids'].shape == batch['input_ids'].shape
    assert any('rewards/margins' in h for h in result['log_history'])


def test_kto_with_images(tmp_path, monkeypatch):
    """Preference rows unpaired into KTO rows: every forward (policy, reference, their KL sequences) sees the
    row's image."""
    from transformers.models.qwen2_vl.modeling_qwen2_vl import Qwen2VLModel
    grids, real = [], Qwen2VLModel.get_image_features
    monkeypatch.setattr(Qwen2VLModel, 'get_image_features',
                        lambda self, pv, grid=None, **kw: grids.append(len(grid)) or real(self, pv, grid, **kw))
    result, batch, image_id = _rlhf_with_images(tmp_path, 'kto', 4)
    assert batch['image_grid_thw'].shape[0] == 4 and batch['KL_input_ids'].shape[0] == 4
    for prefix in ('', 'KL_'):
        types = batch[f'{prefix}mm_token_type_ids']
        assert types.shape == batch[f'{prefix}input_ids'].shape
        assert torch.equal(types == 1, batch[f'{prefix}input_ids'] == image_id)
    assert grids == [4] * 8  # 2 steps x (policy, policy KL, reference, reference KL) over 4 rows
    assert any('kl' in h for h in result['log_history'])


def test_text_only_algorithms_refuse_image_rows(tmp_path):
    from swift.dataset.shapes import data_url, draw
    from swift.utils import DatasetError
    row = {'messages': [{'role': 'user', 'content': '<image>Shape?'}, {'role': 'assistant', 'content': 'A circle.'}],
           'rejected_response': 'A banana.', 'images': [data_url(draw('circle', 'red'))]}
    path = tmp_path / 'cpo.jsonl'
    path.write_text(json.dumps(row) + '\n')
    with pytest.raises(DatasetError, match='rlhf_type cpo trains on text only in this version; image rows train '
                                           'with --rlhf_type dpo, kto, grpo'):
        rlhf_main(['--rlhf_type', 'cpo', '--model', 'swift/tiny-qwen2-vl', '--dataset', str(path), '--strict',
                   'true', '--max_steps', '1', '--output_dir', str(tmp_path / 'out')] + COMMON[4:])
