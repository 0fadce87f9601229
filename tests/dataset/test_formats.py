"""Every supported source format becomes canonical rows."""
import json

from datasets import IterableDataset

from swift.dataset import load_dataset


def user_assistant(query, response):
    return [{'role': 'user', 'content': query}, {'role': 'assistant', 'content': response}]


def _messages(path, **kwargs):
    train, _ = load_dataset([path], **kwargs)
    return train


def test_response_jsonl_with_system_and_history(write):
    path = write('d.jsonl', [{'system': 'S', 'history': [['q0', 'r0']], 'query': 'q', 'response': 'r'},
                             {'prompt': 'p', 'answer': 'a'}])
    train = _messages(path)
    assert train[0]['messages'] == [{'role': 'system', 'content': 'S'}] + user_assistant('q0', 'r0') + \
        user_assistant('q', 'r')
    assert train[1]['messages'] == user_assistant('p', 'a')


def test_alpaca_json_list(write):
    path = write('d.json', [{'instruction': 'Translate', 'input': 'hola', 'output': 'hello'},
                            {'instruction': 'Say hi', 'input': '', 'output': 'hi'}])
    train = _messages(path)
    assert train['messages'] == [user_assistant('Translate\nhola', 'hello'), user_assistant('Say hi', 'hi')]


def test_openai_messages_and_sharegpt_mixed(write):
    openai = {'messages': [{'role': 'system', 'content': 'S'}] + user_assistant('q', 'r')}
    sharegpt = {'conversations': [{'from': 'human', 'value': 'q'}, {'from': 'function_call', 'value': '{"name":"f"}'},
                                  {'from': 'observation', 'value': '42'}, {'from': 'gpt', 'value': 'r'}],
                'tools': [{'name': 'f'}]}
    train = _messages(write('d.jsonl', [openai, sharegpt]))
    # one Arrow schema per file: the plain row carries the (empty) tool fields of the tool row
    assert [{k: v for k, v in m.items() if v is not None} for m in train[0]['messages']] == openai['messages']
    assert [m['role'] for m in train[1]['messages']] == ['user', 'assistant', 'tool', 'assistant']
    assert json.loads(train[1]['tools']) == [{'name': 'f'}]


def test_csv_with_columns_mapping(write):
    path = write('d.csv', [{'text1': 'a', 'text2': 'b'}, {'text1': 'c', 'text2': 'd'}])
    train = _messages(path, columns='{"text1": "query", "text2": "response"}')
    assert train['messages'] == [user_assistant('a', 'b'), user_assistant('c', 'd')]


def test_pretraining_text_and_extra_columns_survive(write):
    path = write('d.jsonl', [{'text': 'plain text'}, {'query': 'q', 'response': 'r', 'solution': '42'}])
    train = _messages(path)
    assert train[0]['messages'] == [{'role': 'assistant', 'content': 'plain text'}]
    assert train[1]['solution'] == '42' and train[0]['solution'] is None


def test_preference_and_kto(write):
    rows = [{'prompt': 'q', 'chosen': 'good', 'rejected': 'bad'},
            {'chosen': user_assistant('q', 'good'), 'rejected': user_assistant('q', 'bad')},
            {'messages': user_assistant('q', 'r'), 'rejected_response': 'bad'}]
    train = _messages(write('pref.jsonl', rows))
    assert train['rejected_response'] == ['bad', 'bad', 'bad']
    assert all(m == user_assistant('q', 'good') for m in train['messages'][:2])
    kto = _messages(write('kto.jsonl', [{'query': 'q', 'response': 'r', 'label': True},
                                        {'query': 'q', 'response': 'x', 'label': False}]))
    assert kto['label'] == [True, False]


def test_folder_loads_every_supported_file(write, tmp_path):
    write('folder/a.jsonl', [{'query': 'q1', 'response': 'r1'}])
    write('folder/sub/b.json', [{'query': 'q2', 'response': 'r2'}])
    write('folder/c.csv', [{'query': 'q3', 'response': 'r3'}])
    train = _messages(str(tmp_path / 'folder'))
    assert sorted(m[0]['content'] for m in train['messages']) == ['q1', 'q2', 'q3']


def test_multiple_datasets_concatenate(write):
    a = write('a.jsonl', [{'query': 'q', 'response': 'r', 'label': True}])
    b = write('b.jsonl', [{'messages': user_assistant('q2', 'r2')}])
    train, val = load_dataset([a, b])
    assert len(train) == 2 and val is None
    assert train['label'] == [True, None]


def test_streaming_yields_canonical_rows(write):
    path = write('d.jsonl', [{'query': f'q{i}', 'response': 'r'} for i in range(5)] + ['{broken'])
    train, val = load_dataset([path], streaming=True)
    assert isinstance(train, IterableDataset) and val is None
    rows = list(train)
    assert [r['messages'][0]['content'] for r in rows] == [f'q{i}' for i in range(5)]
    assert len(list(train)) == 5  # iterable again (next epoch)


def test_num_proc_matches_single_process(write, swift_log):
    rows = [{'query': f'q{i}', 'response': 'r'} for i in range(2500)]
    rows[1000] = '{bad'
    path = write('big.jsonl', rows)
    one, _ = load_dataset([path])
    two, _ = load_dataset([path], num_proc=2)
    assert one['messages'] == two['messages'] and len(two) == 2499
    summaries = [r.getMessage() for r in swift_log.records if 'big.jsonl' in r.getMessage()]
    assert summaries[-1].endswith('kept 2499 rows, dropped 1 (bad JSON: 1 [line 1001])')
