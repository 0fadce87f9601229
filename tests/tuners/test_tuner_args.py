import pytest

from swift.utils import ArgumentError
from .conftest import Args


def test_defaults_follow_ms_swift():
    args = Args()
    assert args.target_modules == ['all-linear'] and args.init_weights == 'true'
    assert (args.lora_rank, args.lora_alpha, args.lora_dropout, args.lora_bias) == (8, 32, 0.05, 'none')
    assert (args.freeze_llm, args.freeze_vit, args.freeze_aligner) == (False, True, True)
    assert (args.llamapro_num_new_blocks, args.llamapro_num_groups) == (4, None)
    assert (args.adalora_target_r, args.adalora_init_r, args.vera_rank, args.fourier_n_frequency) == (8, 12, 256, 2000)
    assert Args().modules_to_save is not Args().modules_to_save  # no shared mutable default
    Args().validate()


@pytest.mark.parametrize('kwargs, words', [
    ({'galore_rank': 64}, '--galore_rank only applies with --use_galore'),
    ({'apollo_rank': 4}, '--apollo_rank only applies with --use_apollo'),
    ({'badam_mode': 'ratio'}, '--badam_mode only applies with --use_badam'),
    ({'lisa_step_interval': 5}, 'only applies with --lisa_activated_layers'),
    ({'reft_rank': 8}, '--reft_rank only applies with --train_type reft'),
    ({'adapter_length': 8}, 'only applies with --train_type adapter'),
    ({'lora_ga_iters': 4}, 'only applies with --init_weights lora-ga'),
    ({'use_galore': True, 'use_apollo': True}, '--use_galore and --use_apollo each choose the optimizer'),
    ({'use_adam_mini': True, 'lorap_lr_ratio': 16.}, 'keep one'),
    ({'use_badam': True}, '--use_badam only applies to --train_type full'),
    ({'lisa_activated_layers': 2}, '--lisa_activated_layers only applies to --train_type full'),
    ({'train_type': 'adalora', 'init_weights': 'lora-ga'}, 'lora-ga only applies to --train_type lora'),
    ({'use_galore': True, 'galore_rank': 0}, '--galore_rank must be >= 1'),
    ({'train_type': 'reft', 'reft_args': '{"dropout": 0.1'}, '--reft_args is not valid JSON'),
    ({'train_type': 'reft', 'reft_args': '{"low_rank": 2}'}, 'keys among dropout, act_fn'),
    ({'use_liger': True}, '--use_liger needs a CUDA GPU'),
    ({'use_galore': True, 'galore_quantization': True}, r'Q-GaLore\) needs a CUDA GPU'),
    ({'init_weights': 'eva'}, 'choose one of'),
    ({'lora_bias': 'some'}, "--lora_bias must be 'none' or 'all'"),
    ({'lora_dtype': 'int8'}, '--lora_dtype must be one of'),
    ({'freeze_parameters_ratio': 1.5}, 'freeze_parameters_ratio'),
    ({'target_regex': '(unclosed'}, 'not a valid regex'),
    ({'boft_block_num': 2, 'boft_block_size': 8}, 'cannot be used together'),
    ({'train_type': 'vera', 'lorap_lr_ratio': 16.}, 'only applies to --train_type lora'),
    ({'train_type': 'adalora', 'lora_dtype': 'float32'}, 'only applies to --train_type lora'),
    ({'train_type': 'full', 'init_weights': 'pissa'}, 'only applies to --train_type lora/longlora/adalora'),
])
def test_validate_rejects_with_one_line(kwargs, words):
    with pytest.raises(ArgumentError, match=words) as info:
        Args(**kwargs).validate()
    assert '\n' not in str(info.value)


def test_unsloth_backend_needs_a_gpu():
    args = Args()
    args.tuner_backend = 'unsloth'
    with pytest.raises(ArgumentError, match='unsloth needs a CUDA GPU'):
        args.validate()


@pytest.mark.parametrize('kwargs', [{'train_type': t} for t in ('longlora', 'adapter', 'reft')] + [
    {'use_galore': True, 'galore_rank': 4, 'galore_optim_per_parameter': True}, {'use_apollo': True},
    {'use_adam_mini': True}, {'train_type': 'full', 'use_badam': True, 'badam_mode': 'ratio'},
    {'train_type': 'full', 'lisa_activated_layers': 2, 'lisa_step_interval': 5},
    {'init_weights': 'lora-ga', 'lora_ga_iters': 4}, {'train_type': 'reft', 'reft_args': '{"dropout": 0.1}'}])
def test_methods_accepted(kwargs):
    Args(**kwargs).validate()


def test_no_tuner_help_says_not_supported():
    from swift.arguments.tuner_args import TunerArguments
    from dataclasses import fields
    helps = [f.metadata.get('help', '') for f in fields(TunerArguments)]
    assert helps and not [h for h in helps if 'not supported' in h.lower()]


@pytest.mark.parametrize('value', ['true', 'false', 'gaussian', 'pissa', 'pissa_niter_4', 'olora', 'lora-ga'])
def test_lora_init_weights_accepted(value):
    Args(init_weights=value).validate()
