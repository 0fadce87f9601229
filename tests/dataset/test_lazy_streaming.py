"""--lazy_tokenize and --streaming keep the eager path's guarantees: bad rows are counted per reason and per
file (in the training summary, since they are met while training), and --strict names the file and line."""
import json

import pytest

from swift.cli.main import cli_main

TRAIN = ['sft', '--model', 'swift/tiny-qwen2', '--max_length', '64', '--split_dataset_ratio', '0',
         '--add_version', 'false', '--report_to', 'none', '--save_strategy', 'no', '--max_steps', '12',
         '--per_device_train_batch_size', '1', '--logging_steps', '100']


def _row(i):
    return json.dumps({'messages': [{'role': 'user', 'content': f'q {i}?'},
                                    {'role': 'assistant', 'content': f'a {i}.'}]})


@pytest.fixture(scope='module')
def bad_file(tmp_path_factory):
    """10 good rows; line 4 is bad JSON, line 7 is too long for --max_length 64, line 9 has no answer."""
    lines = [_row(i) for i in range(10)]
    lines.insert(3, '{bad json')
    lines.insert(6, json.dumps({'messages': [{'role': 'user', 'content': 'long ' * 200},
                                             {'role': 'assistant', 'content': 'x'}]}))
    lines.insert(8, json.dumps({'messages': [{'role': 'user', 'content': 'no answer'}]}))
    path = tmp_path_factory.mktemp('bad') / 'bad.jsonl'
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


@pytest.mark.parametrize('mode', ['--lazy_tokenize', '--streaming'])
def test_bad_rows_are_counted_per_reason_and_file(bad_file, tmp_path, capsys, swift_log, mode):
    assert cli_main(TRAIN + [mode, 'true', '--dataset', bad_file, '--output_dir', str(tmp_path)]) == 0
    out = capsys.readouterr().out
    file_report = f'{bad_file}: kept 12 rows, dropped 1 (bad JSON: 1 [line 4])'
    if mode == '--streaming':  # met while reading: reported in the summary
        assert f'streamed {file_report}' in out
    else:  # preprocessed up front, encoded while training
        assert file_report in swift_log.text
    assert 'encoded while training' in swift_log.text and 'encoded 0/0' not in swift_log.text
    [data_line] = [line for line in out.splitlines() if 'train data:' in line]
    assert 'longer than max_length: 1' in data_line and 'must end with an assistant message' in data_line
    per_file = data_line.split(f'{bad_file}: dropped 2 (')[1]  # in the order training read the rows
    assert 'longer than max_length: 1 [line 7]' in per_file and 'assistant message.: 1 [line 9]' in per_file


@pytest.mark.parametrize('mode', ['--lazy_tokenize', '--streaming'])
def test_strict_names_the_file_and_line(bad_file, tmp_path, capsys, mode):
    code = cli_main(TRAIN + [mode, 'true', '--strict', 'true', '--dataset', bad_file, '--output_dir', str(tmp_path)])
    err = [line for line in capsys.readouterr().err.splitlines() if 'swift sft' in line or 'Traceback' in line]
    assert code == 1 and len(err) == 1, err  # (a stream fails mid-training, after a progress bar)
    assert err[0].endswith(f'swift sft: error: {bad_file}, line 4: bad JSON. Fix that row, or run without '
                           '--strict to skip and count bad rows.')


@pytest.mark.parametrize('mode', ['--lazy_tokenize', '--streaming'])
def test_strict_stops_at_a_row_the_template_cannot_use(tmp_path, capsys, mode):
    path = tmp_path / 'long.jsonl'
    path.write_text('\n'.join([_row(0), json.dumps({'messages': [
        {'role': 'user', 'content': 'long ' * 200}, {'role': 'assistant', 'content': 'x'}]})]) + '\n')
    code = cli_main(TRAIN + [mode, 'true', '--strict', 'true', '--dataset', str(path), '--output_dir',
                             str(tmp_path / 'o')])
    err = [line for line in capsys.readouterr().err.splitlines() if 'swift sft' in line or 'Traceback' in line]
    assert code == 1 and len(err) == 1 and f'{path}, line 2: Encoded length' in err[0], err
    assert 'exceeds max_length 64' in err[0]
