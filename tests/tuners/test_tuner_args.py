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
    ({'use_galore': True}, 'GaLore is not supported yet'),
    ({'galore_rank': 64}, 'GaLore is not supported yet'),
    ({'lisa_activated_layers': 2}, 'LISA is not supported yet'),
    ({'reft_rank': 8}, 'ReFT is not supported yet'),
    ({'lora_ga_iters': 4}, 'LoRA-GA is not supported yet'),
    ({'init_weights': 'lora-ga'}, 'LoRA-GA is not supported yet'),
    ({'use_liger': True}, 'liger-kernel is not supported yet'),
    ({'train_type': 'reft'}, 'not supported yet'),
    ({'train_type': 'longlora'}, 'supported: lora, full'),
    ({'init_weights': 'eva'}, 'choose one of'),
    ({'lora_bias': 'some'}, "--lora_bias must be 'none' or 'all'"),
    ({'lora_dtype': 'int8'}, '--lora_dtype must be one of'),
    ({'freeze_parameters_ratio': 1.5}, 'freeze_parameters_ratio'),
    ({'target_regex': '(unclosed'}, 'not a valid regex'),
    ({'boft_block_num': 2, 'boft_block_size': 8}, 'cannot be used together'),
    ({'train_type': 'vera', 'lorap_lr_ratio': 16.}, 'only applies to --train_type lora'),
    ({'train_type': 'adalora', 'lora_dtype': 'float32'}, 'only applies to --train_type lora'),
    ({'train_type': 'full', 'init_weights': 'pissa'}, 'only applies to --train_type lora/adalora'),
])
def test_validate_rejects_with_one_line(kwargs, words):
    with pytest.raises(ArgumentError, match=words) as info:
        Args(**kwargs).validate()
    assert '\n' not in str(info.value)


def test_unsloth_backend_rejected():
    args = Args()
    args.tuner_backend = 'unsloth'
    with pytest.raises(ArgumentError, match='unsloth is not supported yet'):
        args.validate()


@pytest.mark.parametrize('value', ['true', 'false', 'gaussian', 'pissa', 'pissa_niter_4', 'olora'])
def test_lora_init_weights_accepted(value):
    Args(init_weights=value).validate()
