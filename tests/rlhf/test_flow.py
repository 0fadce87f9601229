"""The one training flow: streamed preference data, real GRPO prompt lengths, data and plugins checked first."""
import re

import pytest

import swift.pipelines.train as train_flow
from swift.pipelines.rlhf import rlhf_main
from swift.pipelines.sft import sft_main
from swift.utils import ArgumentError, DatasetError
from .conftest import rlhf_argv


def test_streaming_dpo_trains(tmp_path, pref_jsonl):
    """Regression: streamed datasets report no columns, which failed with 'no rejected side'."""
    result = rlhf_main(rlhf_argv('dpo', pref_jsonl, tmp_path, '--streaming', 'true'))
    losses = [h['loss'] for h in result['log_history'] if 'loss' in h]
    assert len(losses) == 2 and all(loss > 0 for loss in losses)


def test_streaming_kto_from_pairs_trains(tmp_path, pref_jsonl):
    result = rlhf_main(rlhf_argv('kto', pref_jsonl, tmp_path, '--streaming', 'true'))
    assert result['trainer'].state.global_step == 2


def test_grpo_dry_run_shows_real_prompt_lengths(tmp_path, math_jsonl, capsys):
    rlhf_main(rlhf_argv('grpo', math_jsonl, tmp_path, '--reward_funcs', 'accuracy', '--num_generations', '2',
                        '--dry_run', 'true'))
    out = capsys.readouterr().out
    lengths = re.search(r'token lengths: min (\d+), mean ([\d.]+)', out)
    assert lengths, out
    assert int(lengths.group(1)) > 5 and float(lengths.group(2)) > 5


@pytest.fixture
def no_weights(monkeypatch):
    """Fails the test if the model is loaded: the error must come first."""
    def refuse(*args, **kwargs):
        raise AssertionError('the model was loaded before the bad input was reported')
    monkeypatch.setattr(train_flow, 'load_model_tokenizer', refuse)


def test_missing_dataset_reported_before_weights(tmp_path, no_weights):
    with pytest.raises(DatasetError, match='nope.jsonl'):
        sft_main(['--model', 'swift/tiny-qwen2', '--dataset', str(tmp_path / 'nope.jsonl'),
                  '--output_dir', str(tmp_path)])


def test_unknown_reward_func_reported_before_weights(tmp_path, math_jsonl, no_weights):
    with pytest.raises(ArgumentError, match='acuracy.*Did you mean: accuracy'):
        rlhf_main(rlhf_argv('grpo', math_jsonl, tmp_path, '--reward_funcs', 'acuracy', '--num_generations', '2'))


def test_bad_preference_data_reported_before_weights(tmp_path, make_chat_jsonl, no_weights):
    data = make_chat_jsonl([('hi', 'hello')] * 4)
    with pytest.raises(DatasetError, match='no rejected side'):
        rlhf_main(rlhf_argv('dpo', data, tmp_path))


def test_lazy_tokenize_is_refused_before_weights(tmp_path, pref_jsonl, no_weights):
    with pytest.raises(ArgumentError, match='--lazy_tokenize'):
        rlhf_main(rlhf_argv('kto', pref_jsonl, tmp_path, '--lazy_tokenize', 'true'))
