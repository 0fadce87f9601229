"""GRPO on the tiny VL models (Qwen2-VL and LLaVA): prompts and images encoded by our template reach generation and
every log-prob forward (equal to the template's own forward), an external reward plugin receives the images
column, and the adapter saves and reloads with identical logits."""
import json
import os

import pytest
import torch

from swift.pipelines.rlhf import rlhf_main

REWARD_PLUGIN = '''import os

from swift.plugin import ORM, orms
from swift.template.vision import load_image

CALLS = os.path.join(os.path.dirname(__file__), 'calls.txt')


class CentreRed(ORM):
    """Scores a completion by the red of its image's centre pixel (times a text term, so rewards vary within a
    group); fails unless each completion comes with its row's one image."""

    def __call__(self, completions, images, **kwargs):
        assert len(images) == len(completions), (len(images), len(completions))
        rewards = []
        for completion, row_images in zip(completions, images):
            assert len(row_images) == 1, row_images
            image = load_image(row_images[0]).convert('RGB')
            red = image.getpixel((image.width // 2, image.height // 2))[0] / 255
            rewards.append(red * len(set(completion)) / 10)
        with open(CALLS, 'a') as f:
            f.write(f'{len(completions)}\\n')
        return rewards


orms['centre_red'] = CentreRed
'''
EXAMPLE_PLUGIN = os.path.join(os.path.dirname(__file__), '..', '..', 'examples', 'plugins', 'colour_reward.py')
COMMON = ['--model', 'swift/tiny-qwen2-vl', '--add_version', 'false', '--report_to', 'none',
          '--split_dataset_ratio', '0', '--save_strategy', 'no', '--logging_steps', '1', '--max_steps', '2',
          '--per_device_train_batch_size', '2', '--learning_rate', '1e-2', '--num_generations', '2',
          '--max_completion_length', '6']


@pytest.fixture
def image_calls(monkeypatch):
    """The image grids every forward of the VL model encodes (a spy: the real method runs)."""
    from transformers.models.qwen2_vl.modeling_qwen2_vl import Qwen2VLModel
    calls, real = [], Qwen2VLModel.get_image_features

    def spy(self, pixel_values, image_grid_thw=None, **kwargs):
        calls.append(image_grid_thw.shape[0])
        return real(self, pixel_values, image_grid_thw, **kwargs)
    monkeypatch.setattr(Qwen2VLModel, 'get_image_features', spy)
    return calls


@pytest.fixture(scope='session')
def red_plugin(tmp_path_factory):
    """The plugin file (imported once per session) and a function reading, then clearing, its call log."""
    folder = tmp_path_factory.mktemp('plugin')
    (folder / 'red_reward.py').write_text(REWARD_PLUGIN)
    log = folder / 'calls.txt'

    def calls():
        sizes = log.read_text().split()
        log.unlink()
        return sizes
    return str(folder / 'red_reward.py'), calls


def test_grpo_with_images_trains_and_reloads(tmp_path, image_calls, red_plugin):
    from peft import PeftModel
    from swift.model import get_model_tokenizer
    result = rlhf_main(['--rlhf_type', 'grpo', '--dataset', 'swift/shapes-vqa#4', '--external_plugins',
                        red_plugin[0], EXAMPLE_PLUGIN, '--reward_funcs', 'centre_red', 'shape_colour',
                        '--log_completions', 'true', '--output_dir', str(tmp_path / 'out')] + COMMON)
    assert red_plugin[1]() == ['2', '2']  # 2 steps x 1 prompt x 2 generations
    # per step, generation (its prefill), the reference and the policy log-probs each encode the batch's 2 images
    assert image_calls == [2] * 6
    rows = [json.loads(line) for line in open(tmp_path / 'out' / 'completions.jsonl')]
    assert len(rows) == 4 and any(r['rewards']['centre_red'] > 0 for r in rows)
    assert all(r['rewards']['shape_colour'] in (0., 1.) for r in rows)
    history = result['log_history']
    assert any(h.get('grad_norm', 0) > 0 for h in history)  # the rewards differ within a group: real updates
    ckpt = result['last_model_checkpoint']
    assert 'adapter_model.safetensors' in os.listdir(ckpt)
    trainer = result['trainer']
    trained = trainer.model.eval()
    _check_logps_match_template_forward(trainer)
    batch = _image_batch(trainer.template)
    base, _ = get_model_tokenizer('swift/tiny-qwen2-vl')
    reloaded = PeftModel.from_pretrained(base, ckpt).eval()
    with torch.no_grad():
        assert torch.equal(reloaded(**batch).logits, trained(**batch).logits)


def test_grpo_with_images_on_llava(tmp_path, red_plugin):
    """The second family (pixel_values one row per image, no grids) goes through the same path."""
    result = rlhf_main(['--rlhf_type', 'grpo', '--model', 'swift/tiny-llava', '--dataset', 'swift/shapes-vqa#4',
                        '--external_plugins', red_plugin[0], '--reward_funcs', 'centre_red',
                        '--output_dir', str(tmp_path / 'out')] + COMMON[2:])
    assert red_plugin[1]() == ['2', '2']
    _check_logps_match_template_forward(result['trainer'])


def _check_logps_match_template_forward(trainer):
    """trl's log-prob forward over a left-padded batch with our media (one chunk, and chunks of one row: a
    text-only chunk gets no media) equals each row's own forward through the template, temperature included."""
    from swift.trainers.rlhf.grpo_media import PromptMedia
    rows = [_prompt_row('<image>Describe it.', 'circle'), _prompt_row('What shape is in this picture?', 'square'),
            {'prompt': [{'role': 'user', 'content': 'Say red.'}], 'images': []}]
    template, model = trainer.template, trainer.model.eval()  # eval: no LoRA dropout
    media = PromptMedia(template, rows)
    completion = template.tokenizer('A red circle.', add_special_tokens=False)['input_ids']
    width, n = max(len(p) for p in media.prompt_ids), len(completion)
    assert len(set(len(p) for p in media.prompt_ids)) == 3  # two rows are padded
    pad = template.tokenizer.pad_token_id
    input_ids = torch.tensor([[pad] * (width - len(p)) + p + completion for p in media.prompt_ids])
    attention_mask = (torch.arange(input_ids.size(1)) >= torch.tensor([[width - len(p)] for p in media.prompt_ids]))
    trainer._media = media
    try:
        runs = [trainer._get_per_token_logps_and_entropies(model, input_ids, attention_mask.long(), n,
                                                           batch_size=size)[0] for size in (None, 1)]
    finally:
        trainer._media = None
    for i, row in enumerate(rows):
        enc = template.encode({'messages': row['prompt'], 'images': row['images']}, mode='infer')
        batch = {'input_ids': torch.tensor([enc['input_ids'] + completion])}
        if 'pixel_values' in enc:
            batch['pixel_values'] = enc['pixel_values']
        if 'image_grid_thw' in enc:  # Qwen-style: grids and token types (M-RoPE); LLaVA: pixel_values only
            batch.update(image_grid_thw=enc['image_grid_thw'],
                         mm_token_type_ids=torch.tensor([enc['mm_token_type_ids'] + [0] * n]))
        with torch.no_grad():
            logits = model(**batch).logits[0, -n - 1:-1].float() / trainer.temperature
        expected = logits.log_softmax(-1).gather(-1, torch.tensor(completion)[:, None])[:, 0]
        for logps in runs:
            assert torch.allclose(logps[i], expected, atol=1e-5)


def _prompt_row(question, shape):
    from swift.dataset.shapes import data_url, draw
    return {'prompt': [{'role': 'user', 'content': question}], 'images': [data_url(draw(shape, 'red'))]}


def _image_batch(template):
    from swift.dataset.shapes import data_url, draw
    row = {'messages': [{'role': 'user', 'content': '<image>What shape?'}, {'role': 'assistant', 'content': 'A.'}],
           'images': [data_url(draw('circle', 'red'))]}
    return template.data_collator([template.encode(row, mode='train')])


def test_example_colour_reward_reads_the_image(tmp_path):
    from swift.dataset.shapes import COLORS, data_url, draw
    from swift.plugin import orms
    from swift.plugin.loader import import_plugin_files
    import_plugin_files([EXAMPLE_PLUGIN], 'external_plugins')
    reward = orms.get('shape_colour')()
    images = [[data_url(draw('circle', colour))] for colour in COLORS] + [[]]
    completions = [f'It is {colour}.' for colour in COLORS] + ['text row']
    assert reward(completions, images=images) == [1.] * len(COLORS) + [None]
    assert reward(['It is red.'], images=[[data_url(draw('square', 'blue'))]]) == [0.]


def test_grpo_refuses_video_rows(tmp_path):
    from swift.utils import DatasetError
    from .conftest import solid_png
    frames = [solid_png(tmp_path / f'{i}.png') for i in range(2)]
    row = {'messages': [{'role': 'user', 'content': '<video>What happens?'}], 'videos': [frames]}
    path = tmp_path / 'videos.jsonl'
    path.write_text(json.dumps(row) + '\n')
    with pytest.raises(DatasetError, match='rlhf_type grpo takes images, not videos'):
        rlhf_main(['--rlhf_type', 'grpo', '--dataset', str(path), '--strict', 'true', '--reward_funcs', 'format',
                   '--output_dir', str(tmp_path / 'out')] + COMMON)
