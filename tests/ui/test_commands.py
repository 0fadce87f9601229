"""The web-ui's command builders: form fields are argument names, the preview is a line the CLI accepts as is."""
import shlex

import gradio as gr
import pytest

from swift.arguments.parser import parse_args
from swift.ui.commands import arguments_class, build_argv, check, command_line, field_defaults, subprocess_argv
from swift.ui.runner import RunManager
from swift.ui.webui import export, train
from swift.utils import ArgumentError


def test_argv_keeps_only_set_non_default_values():
    argv = build_argv('sft', {
        'model': 'swift/tiny-qwen2', 'dataset': ['swift/self-cognition#20', 'my data.jsonl'], 'max_steps': 5.0,
        'learning_rate': '1e-4', 'lora_rank': 8, 'num_train_epochs': 3, 'output_dir': ' ', 'torch_dtype': '',
        'model_name': ['小黄', 'Xiao Huang'], 'gradient_checkpointing': False}, extra="--system 'be brief'")
    assert argv == ['--model', 'swift/tiny-qwen2', '--dataset', 'swift/self-cognition#20', 'my data.jsonl',
                    '--max_steps', '5', '--learning_rate', '1e-4', '--model_name', '小黄', 'Xiao Huang',
                    '--gradient_checkpointing', 'false', '--system', 'be brief']
    # lora_rank 8 and num_train_epochs 3 are the defaults; empty strings are "not set"


def test_preview_line_round_trips_through_the_cli_parser():
    argv = build_argv('sft', {'model': 'swift/tiny-qwen2', 'dataset': ['my data.jsonl#3'], 'max_steps': 7,
                              'model_author': ['魔搭', 'ModelScope']})
    line = command_line('sft', argv)
    assert line.startswith('swift sft --model swift/tiny-qwen2')
    pasted = shlex.split(line)[2:]  # what the shell hands to `swift sft`
    assert pasted == argv
    args = parse_args(arguments_class('sft'), pasted)
    assert (args.max_steps, args.dataset, args.model_author) == (7, ['my data.jsonl#3'], ['魔搭', 'ModelScope'])
    assert subprocess_argv('sft', argv)[1:4] == ['-m', 'swift.cli.main', 'sft']


def test_unknown_field_and_bad_quotes_are_errors():
    with pytest.raises(KeyError, match='not an argument of swift sft'):
        build_argv('sft', {'learning_rat': 1e-4})
    with pytest.raises(ArgumentError, match='quotes'):
        build_argv('sft', {}, extra="--system 'unclosed")


@pytest.mark.parametrize('command, argv, expected', [
    ('sft', ['--model', 'swift/tiny-qwen2', '--split_dataset_ratio', '1.5'], '--split_dataset_ratio must be in'),
    ('sft', ['--model', 'swift/tiny-qwen2', '--learning_rat', '1'], 'Did you mean: --learning_rate'),
    ('sft', ['--dataset', 'x.jsonl'], '--model is required'),
    ('sft', ['--model', 'swift/tiny-qwen2', '--train_type', 'lorra'], 'unknown tuner'),
    ('rlhf', ['--model', 'swift/tiny-qwen2', '--rlhf_type', 'dpx'], 'invalid choice'),
    ('export', ['--model', 'swift/tiny-qwen2', '--quant_method', 'bnb'], '--quant_bits'),
])
def test_invalid_combinations_are_one_line_from_our_validation(command, argv, expected):
    error = check(command, argv)
    assert error is not None and expected in error and '\n' not in error
    assert 'Traceback' not in error


def test_valid_lines_pass():
    assert check('sft', ['--model', 'swift/tiny-qwen2', '--dataset', 'swift/self-cognition#5']) is None
    assert check('export', ['--model', 'swift/tiny-qwen2', '--to_ollama', 'true']) is None


def _form_keys(build):
    with gr.Blocks():
        return list(build())


@pytest.mark.parametrize('command', ['sft', 'rlhf'])
def test_every_train_field_is_an_argument_of_its_command(command):
    keys = _form_keys(lambda: train.build_form('en'))
    fields = set(field_defaults(command))
    assert set(keys) - {'command', 'extra'} - ({'rlhf_type', 'beta'} if command == 'sft' else set()) <= fields


def test_every_export_field_is_an_export_argument(tmp_path):
    keys = _form_keys(lambda: export.build_form(RunManager(str(tmp_path)), 'zh'))
    assert set(keys) - {'extra'} <= set(field_defaults('export'))


def test_train_form_values_build_the_command():
    values = {'command': 'rlhf', 'model': 'swift/tiny-qwen2', 'dataset': ['pairs.jsonl'], 'train_type': 'lora',
              'rlhf_type': 'dpo', 'beta': '0.2', 'torch_dtype': 'float32', 'output_dir': 'out', 'max_steps': 3,
              'model_name': '', 'model_author': '', 'extra': '--report_to none'}
    command, argv = train.form_argv(dict(values))
    assert command == 'rlhf'
    assert command_line(command, argv) == ('swift rlhf --model swift/tiny-qwen2 --dataset pairs.jsonl --beta 0.2 '
                                           '--torch_dtype float32 --output_dir out --max_steps 3 --report_to none')
    assert train.output_dir_of(argv, 'swift/tiny-qwen2') == 'out'
    sft_values = dict(values, command='sft', output_dir='', model_name="小黄 'Xiao Huang'")
    command, argv = train.form_argv(sft_values)
    assert '--beta' not in argv and '--rlhf_type' not in argv  # rlhf fields do not leak into `swift sft`
    assert argv[argv.index('--model_name') + 1:][:2] == ['小黄', 'Xiao Huang']
    assert train.output_dir_of(argv, 'swift/tiny-qwen2') == 'output/tiny-qwen2'
