"""Fixtures: one LoRA checkpoint trained by `swift sft` (DoRA + rsLoRA) and helpers shared by the export tests."""
import shutil

import pytest

QA = [('What is 2 plus 2?', 'Four.'), ('Name a color.', 'Blue.'), ('Capital of France?', 'Paris.'),
      ('Say hello.', 'Hello there!')]


@pytest.fixture(scope='session')
def chat_jsonl(make_chat_jsonl):
    return make_chat_jsonl(QA)


@pytest.fixture(scope='session')
def trained_ckpt(tmp_path_factory, chat_jsonl):
    """A DoRA + rsLoRA adapter trained for 3 steps (lr high enough to move the weights visibly)."""
    from swift.pipelines.sft import sft_main
    out = tmp_path_factory.mktemp('sft') / 'out'
    result = sft_main(['--model', 'swift/tiny-qwen2', '--dataset', chat_jsonl, '--output_dir', str(out),
                       '--add_version', 'false', '--report_to', 'none', '--split_dataset_ratio', '0',
                       '--save_strategy', 'no', '--max_steps', '3', '--learning_rate', '5e-2', '--lora_rank', '8',
                       '--use_dora', 'true', '--use_rslora', 'true', '--plot_loss', 'false',
                       '--gradient_checkpointing', 'false'])
    return result['last_model_checkpoint']


@pytest.fixture
def ckpt(trained_ckpt, tmp_path):
    """A private copy, so default output dirs (<ckpt>-merged) of different tests do not collide."""
    path = tmp_path / 'ckpt'
    shutil.copytree(trained_ckpt, path)
    return str(path)


@pytest.fixture(scope='package', autouse=True)
def one_torch_thread():
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
