import json
import os
import re

import pytest

from swift.arguments import PtArguments, SftArguments, build_parser, parse_args
from swift.arguments.train_args import add_version_to_dir
from swift.utils import ArgumentError


def parse(*argv):
    return parse_args(SftArguments, list(argv))


def test_lists_dicts_bools():
    a = parse('--model', 'm', '--dataset', 'a.jsonl', 'b.jsonl#5', '--model_kwargs', '{"k": 1}',
              '--gradient_checkpointing', 'false', '--logging_first_step', '--lora_rank', '4')
    assert a.dataset == ['a.jsonl', 'b.jsonl#5']
    assert a.model_kwargs == {'k': 1}
    assert a.gradient_checkpointing is False and a.logging_first_step is True and a.lora_rank == 4


def test_ms_swift_defaults():
    a = parse('--model', 'm')
    assert (a.train_type, a.lora_rank, a.lora_alpha, a.weight_decay) == ('lora', 8, 32, 0.1)
    assert a.gradient_checkpointing is True and a.lr_scheduler_type == 'cosine'
    assert a.report_to == ['tensorboard'] and a.logging_steps == 5 and a.split_dataset_ratio == 0.01
    assert a.per_device_train_batch_size == 1 and a.max_new_tokens == 64 and a.temperature == 0
    assert a.load_args is False and a.add_version is True and a.truncation_strategy == 'delete'
    pt = parse_args(PtArguments, ['--model', 'm'])
    assert pt.use_chat_template is False


def test_tuner_type_alias():
    assert parse('--model', 'm', '--tuner_type', 'full').train_type == 'full'
    assert parse('--model', 'm', '--train_type', 'adalora').train_type == 'adalora'


@pytest.mark.parametrize('argv,expect', [
    (['--lerning_rate', '1e-4'], '--learning_rate'),
    (['--max_step', '3'], '--max_steps'),  # abbreviations are not accepted
    (['--datset', 'x'], '--dataset'),
])
def test_unknown_argument_suggests(argv, expect):
    with pytest.raises(ArgumentError) as e:
        parse('--model', 'm', *argv)
    assert 'Unknown argument' in str(e.value) and expect in str(e.value)


def test_bad_values():
    with pytest.raises(ArgumentError, match='torch_dtype'):
        parse('--torch_dtype', 'fp99')
    with pytest.raises(ArgumentError, match='true or false'):
        parse('--packing', 'maybe')
    with pytest.raises(ArgumentError, match='invalid JSON'):
        parse('--model_kwargs', '{bad')
    with pytest.raises(ArgumentError, match='Unexpected value'):
        parse('--model', 'm', 'stray')


def test_config_file_yaml_json_and_override(tmp_path):
    cfg = tmp_path / 'run.yaml'
    cfg.write_text('model: swift/tiny-qwen2\ndataset: [a.jsonl, b.jsonl]\nlora_rank: 16\n'
                   'model_kwargs: {"x": 2}\ngradient_checkpointing: false\n')
    a = parse('--config', str(cfg), '--lora_rank', '4')
    assert a.model == 'swift/tiny-qwen2' and a.dataset == ['a.jsonl', 'b.jsonl']
    assert a.lora_rank == 4 and a.model_kwargs == {'x': 2} and a.gradient_checkpointing is False
    js = tmp_path / 'run.json'
    js.write_text(json.dumps({'model': 'm', 'num_train_epochs': 2}))
    assert parse(str(js)).num_train_epochs == 2  # LLaMA-Factory style positional config


def test_config_file_unknown_key_names_file(tmp_path):
    cfg = tmp_path / 'run.yaml'
    cfg.write_text('model: m\nlerning_rate: 1e-4\n')
    with pytest.raises(ArgumentError) as e:
        parse('--config', str(cfg))
    assert 'run.yaml' in str(e.value) and '--learning_rate' in str(e.value)
    with pytest.raises(ArgumentError, match='not found'):
        parse('--config', str(tmp_path / 'missing.yaml'))


def test_help_lists_groups_and_defaults():
    text = build_parser(SftArguments, 'swift sft').format_help()
    for title in ('model arguments', 'data arguments', 'template arguments', 'tuner arguments',
                  'training arguments', 'trainer arguments'):
        assert title in text
    assert '--learning_rate' in text and '--tuner_type' in text and '(default: 8)' in text


def test_resolve_dependent_defaults(tmp_path):
    a = parse('--model', 'swift/tiny-qwen2', '--output_dir', str(tmp_path / 'out'))
    a.validate()
    a.resolve()
    assert a.learning_rate == 1e-4 and a.eval_strategy == 'steps' and a.metric_for_best_model == 'loss'
    assert a.greater_is_better is False and a.metric == 'acc'
    assert a.output_dir.startswith(str(tmp_path / 'out' / 'v0-'))
    full = parse('--model', 'swift/tiny-qwen2', '--train_type', 'full', '--predict_with_generate', 'true',
                 '--add_version', 'false', '--output_dir', str(tmp_path / 'o2'))
    full.resolve()
    assert full.learning_rate == 1e-5 and full.metric_for_best_model == 'rouge-l' and full.greater_is_better
    assert full.output_dir == str(tmp_path / 'o2')


def test_add_version_increments(tmp_path):
    (tmp_path / 'v0-20260101-000000').mkdir()
    (tmp_path / 'v3-20260101-000000').mkdir()
    (tmp_path / 'v9x-notes').mkdir()  # not a version dir: ignored
    assert add_version_to_dir(str(tmp_path)).split('/')[-1].startswith('v4-')
    assert re.fullmatch(r'v0-\d{8}-\d{6}', os.path.basename(add_version_to_dir(str(tmp_path / 'fresh'))))


def test_training_args_built_from_fields(tmp_path):
    a = parse('--model', 'm', '--output_dir', str(tmp_path), '--warmup_ratio', '0.1', '--report_to', 'none',
              '--neftune_noise_alpha', '0', '--use_cpu', 'true')
    a.resolve()
    ta = a.training_args()
    assert ta.warmup_steps == 0.1 and ta.learning_rate == 1e-4 and ta.neftune_noise_alpha is None
    assert ta.weight_decay == 0.1 and ta.gradient_checkpointing is True and ta.report_to == []


def test_args_json_round_trip(tmp_path):
    a = parse('--model', 'swift/tiny-qwen2', '--system', 'be brief', '--max_length', '77', '--dataset', 'd.jsonl',
              '--output_dir', str(tmp_path))
    a.save_args(str(tmp_path))
    saved = json.loads((tmp_path / 'args.json').read_text())
    assert saved['model'] == 'swift/tiny-qwen2' and saved['swift_version']
    # load_args fills unset base arguments; data arguments only with load_data_args.
    b = parse('--adapters', str(tmp_path), '--load_args', 'true')
    b._load_args_json()
    assert b.model == 'swift/tiny-qwen2' and b.system == 'be brief' and b.max_length == 77 and b.dataset == []
    c = parse('--adapters', str(tmp_path), '--load_args', 'true', '--load_data_args', 'true', '--max_length', '5')
    c._load_args_json()
    assert c.dataset == ['d.jsonl'] and c.max_length == 5  # explicit values win


def test_validate_errors(tmp_path):
    with pytest.raises(ArgumentError, match='max_steps'):
        parse('--model', 'm', '--streaming', 'true').validate()
    with pytest.raises(ArgumentError, match='resume_from_checkpoint'):
        parse('--model', 'm', '--resume_from_checkpoint', str(tmp_path / 'nope')).validate()
    with pytest.raises(ArgumentError, match='quant_bits'):
        parse('--model', 'm', '--quant_method', 'bnb').validate()
