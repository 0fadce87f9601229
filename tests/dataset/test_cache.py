"""Encoded-dataset cache: `swift export --to_cached_dataset`, `--cached_dataset`, `--enable_cache`,
`--tokenized_path`, on the tiny model. Training from a cache gives the losses of training from the raw data."""
import json
import multiprocessing
import os

import datasets as hf_datasets
import pytest

from swift.cli.main import cli_main
from swift.dataset import cache
from swift.dataset.encode import EncodeStats
from swift.pipelines.export import export_main
from swift.pipelines.rlhf import rlhf_main
from swift.pipelines.sft import sft_main

MODEL = ['--model', 'swift/tiny-qwen2']
TRAIN = ['--add_version', 'false', '--report_to', 'none', '--save_strategy', 'no', '--logging_steps', '1',
         '--max_steps', '3', '--per_device_train_batch_size', '2', '--learning_rate', '1e-3', '--lora_rank', '8']


def _chat(path, n=12, suffix=''):
    rows = [{'messages': [{'role': 'user', 'content': f'question {i}?'},
                          {'role': 'assistant', 'content': f'answer number {i}{suffix}.'}]} for i in range(n)]
    path.write_text('\n'.join(json.dumps(r) for r in rows) + '\n')
    return str(path)


def _pref(path):
    rows = [{'messages': [{'role': 'user', 'content': f'Say yes {i}.'}, {'role': 'assistant', 'content': 'Yes.'}],
             'rejected_response': 'No no no.'} for i in range(8)]
    path.write_text('\n'.join(json.dumps(r) for r in rows) + '\n')
    return str(path)


def _losses(result):
    return [row['loss'] for row in result['log_history'] if 'loss' in row]


@pytest.fixture(autouse=True)
def _own_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv('SWIFT_CACHE', str(tmp_path / 'swift-cache'))


@pytest.fixture
def exported(tmp_path):
    data = _chat(tmp_path / 'chat.jsonl')
    out = tmp_path / 'cached'
    export_main(MODEL + ['--dataset', data, '--to_cached_dataset', 'true', '--max_length', '128',
                         '--split_dataset_ratio', '0.25', '--output_dir', str(out)])
    return data, str(out)


def test_export_writes_splits_and_manifest(exported):
    data, out = exported
    assert sorted(os.listdir(out)) == ['manifest.json', 'train', 'val']
    manifest = json.load(open(os.path.join(out, 'manifest.json')))
    key = manifest['key']
    assert key['encoding'] == 'sft' and key['template'] == 'qwen2_5' and key['max_length'] == 128
    assert key['truncation_strategy'] == 'delete' and key['loss_scale'] == 'default'
    assert len(key['tokenizer_hash']) == len(key['template_hash']) == 64
    [source] = manifest['data_sources']
    assert list(source['files'].values()) == [cache._file_sha(data)]
    assert manifest['splits']['train']['rows'] == 9 and manifest['splits']['val']['rows'] == 3
    train = hf_datasets.load_from_disk(os.path.join(out, 'train'))
    assert {'input_ids', 'labels', 'length'} <= set(train.column_names)
    assert train['length'] == [len(ids) for ids in train['input_ids']]
    assert not [n for n in os.listdir(os.path.dirname(out)) if n.endswith('.incomplete')]


def test_training_from_the_cache_equals_training_from_the_data(exported, tmp_path):
    data, out = exported
    cached = sft_main(MODEL + TRAIN + ['--cached_dataset', out, '--max_length', '128',
                                       '--output_dir', str(tmp_path / 'a')])
    raw = sft_main(MODEL + TRAIN + ['--dataset', data, '--split_dataset_ratio', '0.25', '--max_length', '128',
                                    '--output_dir', str(tmp_path / 'b')])
    assert len(_losses(cached)) == 3 and _losses(cached) == _losses(raw)


@pytest.mark.parametrize('flags,named', [
    (['--max_length', '64'], "max_length (--max_length) is 128 in the cache but 64 in this run"),
    (['--max_length', '128', '--template', 'chatml'], "template (--template) is 'qwen2_5' in the cache"),
    (['--max_length', '128', '--loss_scale', 'all'], 'loss_scale (--loss_scale)'),
    (['--max_length', '128', '--system', 'Be terse.'], 'system (--system)'),
])
def test_a_cache_made_otherwise_is_refused_in_one_line(exported, tmp_path, capsys, flags, named):
    _, out = exported
    code = cli_main(['sft'] + MODEL + TRAIN + ['--cached_dataset', out, '--output_dir', str(tmp_path / 'o')] + flags)
    err = [line for line in capsys.readouterr().err.strip().splitlines() if 'swift sft' in line or 'Trace' in line]
    assert code == 1 and len(err) == 1, err  # (after the weights load, for the tokenizer/--system checks)
    assert f'--cached_dataset {out} does not match this run: {named}' in err[0] and 'swift export' in err[0]


def test_caches_and_dataset_are_concatenated(exported, swift_log):
    data, out = exported
    assert cli_main(['sft'] + MODEL + ['--cached_dataset', out, out, '--dataset', data, '--max_length', '128',
                                       '--split_dataset_ratio', '0', '--dry_run', 'true']) == 0
    assert 'train dataset: encoded 30/30 rows' in swift_log.text  # 9 + 9 cached, 12 encoded now
    assert 'val dataset: encoded 6/6 rows' in swift_log.text


def test_missing_cache_and_wrong_algorithm_are_refused(exported, tmp_path, capsys):
    _, out = exported
    assert cli_main(['sft'] + MODEL + ['--cached_dataset', str(tmp_path)]) == 1
    assert 'no encoded-dataset cache there (no manifest.json)' in capsys.readouterr().err
    assert cli_main(['rlhf', '--rlhf_type', 'dpo'] + MODEL + ['--cached_dataset', out]) == 1
    err = capsys.readouterr().err
    assert 'holds rows encoded for swift sft/pt, this run needs swift rlhf --rlhf_type dpo' in err
    assert '--template_mode rlhf' in err
    assert cli_main(['sft'] + MODEL + ['--cached_dataset', out, '--lazy_tokenize', 'true']) == 2
    assert '--lazy_tokenize encodes while training' in capsys.readouterr().err


def _dry_run(data, *extra):
    return MODEL + ['--dataset', data, '--dry_run', 'true', '--max_length', '128', *extra]


def test_enable_cache_hits_and_misses(tmp_path, capsys, swift_log):
    data = _chat(tmp_path / 'chat.jsonl')
    encoded = tmp_path / 'swift-cache' / 'encoded'
    for flag in ('--enable_cache', '--load_from_cache_file', '--enable_cache'):
        assert cli_main(['sft'] + _dry_run(data, flag, 'true')) == 0
    assert len(os.listdir(encoded)) == 1
    logs = swift_log.text
    assert logs.count('cache miss') == 1 and logs.count('cache hit (11 train rows), encoding skipped') == 2
    _chat(tmp_path / 'chat.jsonl', suffix='!')  # same rows count, other content: a miss, never stale rows
    assert cli_main(['sft'] + _dry_run(data, '--enable_cache', 'true')) == 0
    assert len(os.listdir(encoded)) == 2
    assert cli_main(['sft'] + _dry_run(data, '--enable_cache', 'true', '--template', 'chatml')) == 0
    assert cli_main(['sft'] + _dry_run(data, '--enable_cache', 'true', '--max_length', '100')) == 0
    assert len(os.listdir(encoded)) == 4 and swift_log.text.count('cache miss') == 4


def test_enable_cache_is_refused_outside_training(tmp_path, capsys):
    assert cli_main(['infer'] + MODEL + ['--enable_cache', 'true']) == 2
    assert '--enable_cache true: applies to training only' in capsys.readouterr().err


def test_tokenized_path_round_trip(tmp_path, swift_log, capsys):
    data = _chat(tmp_path / 'chat.jsonl')
    path = str(tmp_path / 'tokenized')
    argv = TRAIN + ['--max_length', '128', '--split_dataset_ratio', '0', '--tokenized_path', path]
    first = sft_main(MODEL + argv + ['--dataset', data, '--output_dir', str(tmp_path / 'a')])
    assert 'cache miss' in swift_log.text and cache.read_manifest(path)['splits']['train']['rows'] == 12
    second = sft_main(MODEL + argv + ['--output_dir', str(tmp_path / 'b')])  # no --dataset: from the path
    assert _losses(first) == _losses(second) and len(_losses(first)) == 3
    third = sft_main(MODEL + argv + ['--dataset', data, '--output_dir', str(tmp_path / 'c')])
    assert 'cache hit' in swift_log.text and _losses(third) == _losses(first)
    _chat(tmp_path / 'chat.jsonl', suffix='?')
    assert cli_main(['sft'] + MODEL + argv + ['--dataset', data, '--output_dir', str(tmp_path / 'd')]) == 1
    err = capsys.readouterr().err
    assert f'--tokenized_path {path} does not match this run: the data differs' in err and f'delete {path}' in err


def test_dpo_and_orpo_train_from_an_rlhf_cache(tmp_path, capsys):
    data = _pref(tmp_path / 'pref.jsonl')
    out = str(tmp_path / 'pairs')
    export_main(MODEL + ['--dataset', data, '--to_cached_dataset', 'true', '--template_mode', 'rlhf',
                         '--max_length', '128', '--split_dataset_ratio', '0', '--output_dir', out])
    assert cache.read_manifest(out)['key']['encoding'] == 'rlhf:dpo'
    rlhf = ['--max_length', '128', '--split_dataset_ratio', '0'] + TRAIN

    def run(kind, source, out_dir):
        return _losses(rlhf_main(['--rlhf_type', kind] + MODEL + rlhf + source + ['--output_dir', str(out_dir)]))
    cached = run('dpo', ['--cached_dataset', out], tmp_path / 'a')
    assert len(cached) == 3 and cached == run('dpo', ['--dataset', data], tmp_path / 'b')
    orpo = run('orpo', ['--cached_dataset', out], tmp_path / 'c')  # a dpo pair cache feeds orpo too
    orpo_raw = run('orpo', ['--dataset', data], tmp_path / 'd')
    assert orpo == orpo_raw
    assert cli_main(['sft'] + MODEL + ['--cached_dataset', out, '--max_length', '128']) == 1
    assert 'holds rows encoded for swift rlhf --rlhf_type dpo, this run needs swift sft/pt' in capsys.readouterr().err


def _write(path, value):
    rows = hf_datasets.Dataset.from_dict({'input_ids': [[value] * 3], 'length': [3]})
    stats = EncodeStats(rows_in=1, rows_kept=1, lengths=[3])
    return cache.save_cache(path, {'train': rows, 'val': None}, {'train': stats}, cache.build_manifest({}, {}))


def test_concurrent_writers_leave_one_complete_cache(tmp_path):
    path = str(tmp_path / 'c')
    ctx = multiprocessing.get_context('fork')
    with ctx.Pool(4) as pool:
        won = pool.starmap(_write, [(path, v) for v in range(8)])
    assert sum(won) == 1  # the first rename wins; the others see a complete cache and keep it
    datasets, stats = cache.load_cache(path, cache.read_manifest(path))
    assert datasets['train']['input_ids'][0] == [won.index(True)] * 3 and stats['train'].rows_kept == 1
    assert os.listdir(tmp_path) == ['c']


@pytest.mark.parametrize('argv,says', [
    (['--template_mode', 'rlhf', '--merge_lora', 'true', '--adapters', 'x'],
     '--template_mode rlhf is read by --to_cached_dataset true only'),
    (['--to_cached_dataset', 'true'], '--to_cached_dataset true encodes --dataset: pass --dataset'),
    (['--to_cached_dataset', 'true', '--dataset', 'd.jsonl', '--to_gguf', 'true'], 'run them as two exports'),
])
def test_export_flag_refusals(argv, says, capsys):
    assert cli_main(['export'] + MODEL + argv) == 2
    assert says in capsys.readouterr().err


def test_a_non_empty_tokenized_path_without_cache_is_refused(tmp_path, capsys):
    (tmp_path / 'notes.txt').write_text('mine')
    assert cli_main(['sft'] + MODEL + ['--dataset', 'x.jsonl', '--tokenized_path', str(tmp_path)]) == 1
    assert 'holds files but no encoded-dataset cache' in capsys.readouterr().err
