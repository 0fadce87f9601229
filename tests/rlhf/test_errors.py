"""Bad input fails early with one line naming the fix."""
import pytest

from swift.pipelines.rlhf import rlhf_main
from swift.utils import ArgumentError, DatasetError, SwiftError
from .conftest import _write, rlhf_argv


@pytest.fixture(scope='module')
def chat_only(tmp_path_factory):
    rows = [{'messages': [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'hello'}]}] * 4
    return _write(tmp_path_factory.mktemp('data') / 'chat.jsonl', rows)


def test_preference_data_without_rejected_side(tmp_path, chat_only):
    with pytest.raises(DatasetError, match='no rejected side.*kto'):
        rlhf_main(rlhf_argv('dpo', chat_only, tmp_path))


def test_reward_weights_length_mismatch(tmp_path, math_jsonl):
    with pytest.raises(ArgumentError, match='--reward_weights has 2 values for 1 rewards'):
        rlhf_main(rlhf_argv('grpo', math_jsonl, tmp_path, '--reward_funcs', 'accuracy', '--reward_weights', '1', '2',
                            '--num_generations', '2'))


def test_num_generations_must_divide_the_batch(tmp_path, math_jsonl):
    with pytest.raises(ArgumentError, match='multiple of --num_generations 3'):
        rlhf_main(rlhf_argv('grpo', math_jsonl, tmp_path, '--reward_funcs', 'accuracy', '--num_generations', '3'))


def test_unknown_reward_function(tmp_path, math_jsonl):
    with pytest.raises(ArgumentError, match="Did you mean: accuracy"):
        rlhf_main(rlhf_argv('grpo', math_jsonl, tmp_path, '--reward_funcs', 'acuracy', '--num_generations', '2'))


def test_reward_function_raising_is_named(tmp_path, math_jsonl):
    plugin = tmp_path / 'bad_reward.py'
    plugin.write_text('from swift.plugin import orms\n\n\ndef broken(completions, **kwargs):\n'
                      '    raise RuntimeError("boom")\n\n\norms["broken_reward"] = broken\n')
    with pytest.raises(SwiftError, match="Reward function 'broken_reward' raised RuntimeError: boom"):
        rlhf_main(rlhf_argv('grpo', math_jsonl, tmp_path / 'out', '--external_plugins', str(plugin),
                            '--reward_funcs', 'broken_reward', '--num_generations', '2',
                            '--max_completion_length', '4'))


def test_full_dpo_reference_defaults_to_the_model(tmp_path):
    from swift.arguments import parse_args
    from swift.arguments.rlhf_args import RLHFArguments
    args = parse_args(RLHFArguments, ['--rlhf_type', 'dpo', '--model', 'swift/tiny-qwen2', '--train_type', 'full',
                                      '--output_dir', str(tmp_path), '--add_version', 'false'])
    args.validate()
    args.resolve()
    assert args.ref_model == 'swift/tiny-qwen2'  # ms-swift's examples/train/rlhf/dpo/full.sh passes no --ref_model


def test_ppo_needs_reward_model(tmp_path, math_jsonl):
    with pytest.raises(ArgumentError, match='--rlhf_type ppo needs --reward_model'):
        rlhf_main(rlhf_argv('ppo', math_jsonl, tmp_path))


def test_use_vllm_on_cpu(tmp_path, math_jsonl):
    with pytest.raises(ArgumentError, match='--use_vllm needs a CUDA GPU'):
        rlhf_main(rlhf_argv('grpo', math_jsonl, tmp_path, '--reward_funcs', 'accuracy', '--num_generations', '2',
                            '--use_vllm', 'true'))


def test_help_lists_the_rlhf_groups():
    from swift.arguments import build_parser
    from swift.arguments.rlhf_args import RLHFArguments
    text = build_parser(RLHFArguments, 'swift rlhf').format_help()
    for flag in ('--rlhf_type', '--rpo_alpha', '--num_ppo_epochs', '--reward_funcs', '--cosine_max_len',
                 '--vllm_gpu_memory_utilization'):
        assert flag in text


def test_default_beta_per_algorithm(tmp_path):
    from swift.arguments import parse_args
    from swift.arguments.rlhf_args import RLHFArguments
    betas = {}
    for kind in ('dpo', 'simpo', 'grpo'):
        args = parse_args(RLHFArguments, ['--rlhf_type', kind, '--model', 'swift/tiny-qwen2', '--output_dir',
                                          str(tmp_path), '--add_version', 'false'])
        args.resolve()
        betas[kind] = args.beta
        assert args.loss_scale == 'last_round'
    assert betas == {'dpo': 0.1, 'simpo': 2.0, 'grpo': 0.04}
