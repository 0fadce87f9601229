"""Malformed rows are counted and reported; strict mode, empty and missing data fail with one readable line."""
import time

import pytest

from swift.dataset import load_dataset
from swift.utils import DatasetError

GOOD = {'query': 'q', 'response': 'r'}


def test_malformed_rows_skipped_with_one_summary_line(write, swift_log):
    rows = [GOOD] * 5 + ['{"query": "q", "response": '] + [GOOD, {'query': 'q', 'response': ''},
                                                           {'messages': [{'role': 'assistant', 'content': 'a'},
                                                                         {'role': 'user', 'content': 'u'}]},
                                                           {'messages': []}, {'query': 'q', 'response': 3}]
    path = write('data.jsonl', rows)
    train, _ = load_dataset([path])
    assert len(train) == 6
    lines = [r.getMessage() for r in swift_log.records if 'data.jsonl' in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].endswith('data.jsonl: kept 6 rows, dropped 5 (bad JSON: 1 [line 6], missing response: 1 '
                             '[line 8], roles out of order: 1 [line 9], empty conversation: 1 [line 10], '
                             'response is not a string: 1 [line 11])')


def test_strict_names_file_and_line(write):
    path = write('data.jsonl', [GOOD, GOOD, 'not json', GOOD])
    with pytest.raises(DatasetError, match=r'data\.jsonl, line 3: bad JSON'):
        load_dataset([path], strict=True)


def test_empty_dataset_names_file_and_columns(write):
    path = write('odd.jsonl', [{'foo': 1, 'bar': 2}])
    with pytest.raises(DatasetError, match=r'odd\.jsonl.*no usable rows.*Columns found: \[foo, bar\].*query\+response'):
        load_dataset([path])


def test_missing_file_names_path(tmp_path):
    missing = str(tmp_path / 'nope.jsonl')
    with pytest.raises(DatasetError, match='not found: .*nope.jsonl'):
        load_dataset([missing])


def test_unknown_hub_id_fails_fast_offline(monkeypatch):
    # '.invalid' never resolves (RFC 2606), so this is offline even on a machine with internet.
    monkeypatch.setenv('MODELSCOPE_DOMAIN', 'hub.invalid')
    monkeypatch.setenv('HF_ENDPOINT', 'https://hub.invalid')
    for use_hf in (False, True):
        start = time.time()
        with pytest.raises(DatasetError) as info:
            load_dataset(['someone/no-such-dataset'], use_hf=use_hf)
        assert time.time() - start < 10
        message = str(info.value)
        assert '\n' not in message and "'someone/no-such-dataset'" in message
        assert 'ModelScope' in message and 'Hugging Face' in message and '--dataset /path/to/data.jsonl' in message


def test_bad_columns_json():
    with pytest.raises(DatasetError, match='--columns must be a JSON object'):
        load_dataset(['x.jsonl'], columns='{bad')


def test_query_only_rows_load_for_inference(write):
    path = write('queries.jsonl', [{'query': 'what is 1+1?'}, {'query': 'hi', 'system': 'be brief'}])
    train, _ = load_dataset([path])
    assert [row['messages'][-1]['role'] for row in train] == ['user', 'user']


@pytest.mark.parametrize('ext', ['jsonl', 'json', 'csv', 'txt'])
def test_non_utf8_byte_is_a_counted_row_not_a_crash(tmp_path, swift_log, ext):
    """Issue 11: a byte that is not UTF-8 is dropped and counted at its location; --strict names file and place."""
    bad = b'caf\xe9'
    lines = {'jsonl': [b'{"query": "q", "response": "r"}', b'{"query": "' + bad + b'", "response": "r"}'],
             'json': [b'[{"query": "q", "response": "r"},', b'{"query": "' + bad + b'", "response": "r"}]'],
             'csv': [b'query,response', b'q,r', bad + b',r'],
             'txt': [b'good text', bad]}[ext]
    path = tmp_path / f'data.{ext}'
    path.write_bytes(b'\n'.join(lines + ([b'{"query": "q", "response": "r"}'] if ext == 'jsonl' else [])) + b'\n')
    train, _ = load_dataset([str(path)])
    assert len(train) == (2 if ext == 'jsonl' else 1)
    summary = [r.getMessage() for r in swift_log.records if f'data.{ext}' in r.getMessage()]
    assert any('not UTF-8 text' in m and ('line 2' in m or 'row 2' in m) for m in summary), summary
    with pytest.raises(DatasetError, match=rf'data\.{ext}, (line|row) 2: not UTF-8'):
        load_dataset([str(path)], strict=True)
