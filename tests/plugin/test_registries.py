"""Plugin registries: dict-style registration, strict lookups, and --external_plugins/--loss_type/--optimizer in sft."""
import json

import pytest

import swift.trainers  # noqa: F401  (registers the built-in losses)
import swift.tuners  # noqa: F401  (registers the built-in optimizers)
from swift.pipelines.sft import sft_main
from swift.plugin import PLUGIN_REGISTRIES, get_loss_func, loss_funcs, optimizers, orms
from swift.utils import ArgumentError

LOSS_PLUGIN = '''from swift.plugin import loss_funcs
from swift.trainers import causal_lm_loss

CALLS = []


def doubled(outputs, labels, loss_scale=None, num_items_in_batch=None):
    CALLS.append(1)
    return 2 * causal_lm_loss(outputs.logits, labels, loss_scale, num_items_in_batch)


loss_funcs['doubled_ce'] = doubled
'''


@pytest.fixture
def chat_jsonl(tmp_path):
    path = tmp_path / 'chat.jsonl'
    rows = [{'messages': [{'role': 'user', 'content': f'q{i}'}, {'role': 'assistant', 'content': f'a{i}'}]}
            for i in range(4)]
    path.write_text('\n'.join(json.dumps(row) for row in rows))
    return str(path)


def _argv(data, out, *extra):
    return ['--model', 'swift/tiny-qwen2', '--dataset', data, '--output_dir', str(out), '--add_version', 'false',
            '--report_to', 'none', '--split_dataset_ratio', '0', '--save_strategy', 'no', '--max_steps', '2',
            '--logging_steps', '1', *extra]


def test_every_registry_is_strict():
    assert set(PLUGIN_REGISTRIES) == {'orms', 'prms', 'loss_funcs', 'metrics', 'optimizers', 'callbacks',
                                      'tuners', 'loss_scales'}
    with pytest.raises(ValueError, match='already registered'):
        orms['accuracy'] = object
    with pytest.raises(ArgumentError, match='--loss_type cross_entropi: unknown loss function. Did you mean: cross_'):
        get_loss_func('cross_entropi')
    with pytest.raises(ArgumentError, match="--optimizer .*Known: .*lorap"):
        optimizers.get('lora_plus')


def test_sft_loss_type_plugin_from_external_file(tmp_path, chat_jsonl):
    plugin = tmp_path / 'my_loss.py'
    plugin.write_text(LOSS_PLUGIN)
    result = sft_main(_argv(chat_jsonl, tmp_path / 'out', '--external_plugins', str(plugin),
                            '--loss_type', 'doubled_ce'))
    from swift.plugin.loader import _LOADED
    assert 'doubled_ce' in loss_funcs and len(_LOADED[str(plugin)].CALLS) >= 2  # the plugin computed the loss
    assert len([r for r in result['log_history'] if 'loss' in r]) == 2


def test_sft_builtin_loss_and_optimizer(tmp_path, chat_jsonl):
    result = sft_main(_argv(chat_jsonl, tmp_path / 'out', '--loss_type', 'cross_entropy', '--optimizer', 'lorap',
                            '--lorap_lr_ratio', '16'))
    assert len([r for r in result['log_history'] if 'loss' in r]) == 2


def test_sft_misspelled_metric_and_optimizer(tmp_path, chat_jsonl):
    with pytest.raises(ArgumentError, match='--optimizer lorapp: unknown optimizer. Did you mean: lorap'):
        sft_main(_argv(chat_jsonl, tmp_path / 'a', '--optimizer', 'lorapp'))
    with pytest.raises(ArgumentError, match='--metric accc: unknown metric. Did you mean: acc'):
        sft_main(_argv(chat_jsonl, tmp_path / 'b', '--metric', 'accc'))


def test_plugin_file_registering_nothing_fails(tmp_path, chat_jsonl):
    plugin = tmp_path / 'empty_plugin.py'
    plugin.write_text('x = 1\n')
    with pytest.raises(ArgumentError, match='registered nothing'):
        sft_main(_argv(chat_jsonl, tmp_path / 'out', '--external_plugins', str(plugin)))
