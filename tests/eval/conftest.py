import json

import pytest


def write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(r, ensure_ascii=False) + '\n' for r in rows), encoding='utf-8')
    return str(path)


@pytest.fixture(scope='session')
def eval_sets(tmp_path_factory):
    """A general_qa dir, a general_mcq dir and one of our own jsonl sets (messages with a system, alpaca)."""
    root = tmp_path_factory.mktemp('eval_sets')
    write_jsonl(root / 'qa' / 'default.jsonl', [{'query': 'Say hi.', 'response': 'hi'},
                                                {'query': 'What is 1+1?', 'response': '2'}])
    mcq = [{'question': '1+1=?', 'A': '1', 'B': '2', 'C': '3', 'D': '4', 'answer': 'B'},
           {'question': 'Sky color?', 'A': 'red', 'B': 'green', 'C': 'blue', 'D': 'black', 'answer': 'C'}]
    write_jsonl(root / 'mcq' / 'default_dev.jsonl', mcq)
    write_jsonl(root / 'mcq' / 'default_val.jsonl', mcq)
    own = write_jsonl(root / 'own.jsonl', [
        {'messages': [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'hi'},
                      {'role': 'assistant', 'content': 'hello'}]},
        {'instruction': 'Add', 'input': '2+2', 'output': '4', 'system': 'You are a calculator.'},
        {'query': 'Name a color.', 'response': 'blue'}])
    args = {'general_qa': {'local_path': str(root / 'qa'), 'subset_list': ['default']},
            'general_mcq': {'local_path': str(root / 'mcq'), 'subset_list': ['default']}}
    return {'root': root, 'own': own, 'dataset_args': json.dumps(args)}
