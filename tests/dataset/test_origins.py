"""Rows the template cannot use are named by file and line, in every encoding path (eager, --dataset_num_proc 2,
lazy, streaming), and counted per reason and per file; the origin column never leaves the data layer."""
import json
import os

import datasets as hf_datasets
import pytest

from swift.cli.main import cli_main
from swift.dataset import cache, encode_dataset, load_dataset
from swift.dataset.report import ORIGIN
from swift.model.tiny import load_tiny_tokenizer
from swift.template import get_template
from swift.template.rlhf import rlhf_encoder
from swift.utils import DatasetError

pytestmark = pytest.mark.usefixtures('private_swift_cache')  # the tiny model, not shared ~/.cache
LONG_LINE, ENDS_WITH_USER_LINE = 1701, 2302  # 1-based lines of bad.jsonl that fail encoding


def _chat(i):
    return {'messages': [{'role': 'user', 'content': f'q {i}?'}, {'role': 'assistant', 'content': f'a {i}.'}],
            'solution': str(i)}


@pytest.fixture(scope='module')
def bad_file(tmp_path_factory):
    """2,400 rows (enough for 2 worker processes) with a blank line after line 1000, so lines are not row numbers;
    line 1701 is too long for max_length 64, line 2302 ends with a user message (a template error)."""
    lines = [json.dumps(_chat(i)) for i in range(2400)]
    lines.insert(1000, '')
    lines[LONG_LINE - 1] = json.dumps({'messages': [{'role': 'user', 'content': 'long ' * 200},
                                                    {'role': 'assistant', 'content': 'x'}]})
    lines[ENDS_WITH_USER_LINE - 1] = json.dumps({'messages': [{'role': 'user', 'content': 'no answer'}]})
    path = tmp_path_factory.mktemp('origins') / 'bad.jsonl'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


@pytest.fixture(scope='module')
def template():
    return get_template('qwen2_5', load_tiny_tokenizer(), max_length=64)


def _encode(path, template, mode, strict=False, **load):
    raw, _ = load_dataset([path], origins=True, streaming=mode == 'streaming', **load)
    encoded, stats = encode_dataset(raw, template, strict=strict, lazy=mode == 'lazy',
                                    num_proc=2 if mode == 'num_proc 2' else 1)
    if mode == 'lazy':
        [encoded[i] for i in range(len(encoded))]
    elif mode == 'streaming':
        list(encoded)
    return encoded, stats


MODES = ['eager', 'num_proc 2', 'lazy', 'streaming']


@pytest.mark.parametrize('mode', MODES)
def test_strict_names_the_file_and_line(bad_file, template, mode):
    with pytest.raises(DatasetError) as error:
        _encode(bad_file, template, mode, strict=True)
    assert str(error.value).startswith(f'{bad_file}, line {LONG_LINE}: Encoded length ')


@pytest.mark.parametrize('mode', MODES)
def test_lenient_counts_per_reason_and_file(bad_file, template, mode):
    encoded, stats = _encode(bad_file, template, mode)
    assert stats.dropped == {'longer than max_length': 1,
                             'template error: A training row must end with an assistant message.': 1}
    lines = str(stats).splitlines()
    assert lines[1] == (f'{bad_file}: dropped 2 (longer than max_length: 1 [line {LONG_LINE}], template error: A '
                        f'training row must end with an assistant message.: 1 [line {ENDS_WITH_USER_LINE}])')
    if mode in ('eager', 'num_proc 2'):
        assert set(encoded.column_names) == {'input_ids', 'labels', 'length'} and len(encoded) == 2398
    else:
        assert ORIGIN not in (encoded[0] if mode == 'lazy' else next(iter(encoded)))


def test_sampling_and_mixing_keep_each_rows_line(bad_file, template, tmp_path):
    """#N upsampling (repeats), a shuffled split and an interleaved second file: each drop keeps its line."""
    other = tmp_path / 'other.json'  # records, not lines: named by row
    other.write_text(json.dumps([_chat(0), {'messages': [{'role': 'user', 'content': 'alone'}]}, _chat(2)]))
    raw, val = load_dataset([f'{bad_file}#4800', str(other)], origins=True, split_dataset_ratio=0.1,
                            mix_strategy='interleave_over', seed=3)
    stats = encode_dataset(raw, template)[1]
    stats.merge(encode_dataset(val, template)[1])
    text = str(stats)
    assert f'[line {LONG_LINE}]' in text and f'[line {ENDS_WITH_USER_LINE}]' in text
    assert f'{other}: dropped ' in text and '[row 2]' in text
    per_file = {s: r.n_dropped for s, r in stats.sources.items()}
    assert sum(per_file.values()) == sum(stats.dropped.values()) and per_file[bad_file] >= 2  # (repeated rows)
    with pytest.raises(DatasetError, match=f'^{other}, row 2: '):
        encode_dataset(load_dataset([str(other)], origins=True)[0], template, strict=True)


def test_rows_without_origin_are_named_by_position(template):
    rows = hf_datasets.Dataset.from_list([_chat(0), {'messages': [{'role': 'user', 'content': 'alone'}]}])
    with pytest.raises(DatasetError, match='^row 2: '):
        encode_dataset(rows, template, strict=True)
    assert len(str(encode_dataset(rows, template)[1]).splitlines()) == 2  # no per-file line


def test_origin_stays_out_of_encoder_inputs_hashes_and_caches(bad_file, template, tmp_path):
    raw, _ = load_dataset([bad_file], origins=True)
    plain, _ = load_dataset([bad_file])
    assert ORIGIN in raw.column_names and ORIGIN not in plain.column_names
    assert cache.rows_hash(raw) == cache.rows_hash(plain)  # a cache key never depends on where rows were read
    grpo = rlhf_encoder('grpo', template)
    seen = []
    encoded, _ = encode_dataset(raw.select(range(3)), template, encoder=lambda row: seen.append(row) or grpo(row))
    assert ORIGIN not in seen[0] and ORIGIN not in encoded.column_names and 'solution' in encoded.column_names
    out = tmp_path / 'cached'
    assert cli_main(['export', '--model', 'swift/tiny-qwen2', '--dataset', bad_file, '--to_cached_dataset', 'true',
                     '--max_length', '64', '--split_dataset_ratio', '0', '--output_dir', str(out)]) == 0
    assert ORIGIN not in open(os.path.join(out, cache.MANIFEST)).read()
    assert set(hf_datasets.load_from_disk(str(out / 'train')).column_names) == {'input_ids', 'labels', 'length'}


TRAIN = ['sft', '--model', 'swift/tiny-qwen2', '--max_length', '64', '--split_dataset_ratio', '0',
         '--add_version', 'false', '--report_to', 'none', '--save_strategy', 'no', '--max_steps', '2',
         '--per_device_train_batch_size', '1', '--logging_steps', '100']


@pytest.mark.parametrize('mode', [[], ['--lazy_tokenize', 'true'], ['--streaming', 'true']])
def test_the_training_command_names_the_line(tmp_path, capsys, mode):
    path = tmp_path / 'long.jsonl'
    path.write_text('\n'.join([json.dumps(_chat(0)), '', json.dumps({'messages': [
        {'role': 'user', 'content': 'long ' * 200}, {'role': 'assistant', 'content': 'x'}]})]) + '\n')
    code = cli_main(TRAIN + mode + ['--strict', 'true', '--dataset', str(path), '--output_dir', str(tmp_path / 'o')])
    err = [line for line in capsys.readouterr().err.splitlines() if 'swift sft' in line or 'Traceback' in line]
    assert code == 1 and len(err) == 1 and f'swift sft: error: {path}, line 3: Encoded length' in err[0], err
