"""Resume: a run continued from a checkpoint ends exactly where an uninterrupted run ends."""
from swift.pipelines.sft import sft_main
from ._utils import base_argv


def _argv(data, out, *extra):
    return base_argv(data, out, '--max_steps', '6', '--save_strategy', 'steps', '--save_steps', '3',
                     '--per_device_train_batch_size', '2', '--plot_loss', 'false', *extra)


def _loss_at(result, step):
    return next(r['loss'] for r in result['log_history'] if r.get('step') == step and 'loss' in r)


def test_resume_matches_uninterrupted_run(tmp_path, chat_jsonl):
    full = sft_main(_argv(chat_jsonl, tmp_path / 'full'))
    # The state at checkpoint-3 is what a run killed after its first checkpoint leaves behind.
    ckpt = str(tmp_path / 'full' / 'checkpoint-3')
    resumed = sft_main(_argv(chat_jsonl, tmp_path / 'resumed', '--resume_from_checkpoint', ckpt))
    for step in (4, 5, 6):
        assert abs(_loss_at(resumed, step) - _loss_at(full, step)) < 1e-5
    assert (tmp_path / 'resumed' / 'checkpoint-6' / 'args.json').is_file()

    only_model = sft_main(_argv(chat_jsonl, tmp_path / 'only', '--resume_from_checkpoint', ckpt,
                                '--resume_only_model', 'true', '--max_steps', '2'))
    # Weights come from checkpoint-3, the step counter and the data order start again.
    assert [r['step'] for r in only_model['log_history'] if 'loss' in r] == [1, 2]
    assert _loss_at(only_model, 1) < _loss_at(full, 1) - 1e-3
