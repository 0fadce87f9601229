"""Registered datasets: self-cognition, --custom_dataset_info json, and a register_dataset plugin file."""
import importlib.util
import json
import textwrap

import pytest

from swift.dataset import DATASET_MAPPING, DatasetMeta, load_dataset, register_dataset, register_dataset_info
from swift.utils import DatasetError


def test_self_cognition_substitutes_name_and_author_by_language():
    train, _ = load_dataset(['swift/self-cognition'], model_name=['小黄', 'Xiao Huang'],
                            model_author=['魔搭', 'ModelScope'])
    assert len(train) >= 100
    answers = [m[-1]['content'] for m in train['messages']]
    assert not any('{{' in a for a in answers)
    zh = [a for a in answers if '小黄' in a]
    en = [a for a in answers if 'Xiao Huang' in a]
    assert len(zh) > 40 and len(en) > 40 and len(zh) + len(en) == len(answers)
    assert all('魔搭' in a for a in zh) and all('ModelScope' in a for a in en)


def test_self_cognition_without_names_keeps_placeholders(caplog):
    train, _ = load_dataset(['swift/self-cognition#10'])
    assert any('{{NAME}}' in row['messages'][-1]['content'] for row in train)


def test_custom_dataset_info_json(write, tmp_path):
    write('data/pairs.jsonl', [{'text1': 'a', 'text2': 'b'}])
    info = tmp_path / 'dataset_info.json'
    info.write_text(json.dumps([{'dataset_path': 'data/pairs.jsonl', 'dataset_name': 'my-pairs',
                                 'columns': {'text1': 'query', 'text2': 'response'}}]))
    register_dataset_info(str(info))
    train, _ = load_dataset(['my-pairs'])
    assert train[0]['messages'][1]['content'] == 'b'


def test_custom_dataset_info_rejects_unknown_keys(tmp_path):
    with pytest.raises(DatasetError, match="unknown key 'column'.*Did you mean: columns"):
        register_dataset_info(json.dumps([{'dataset_path': 'x.jsonl', 'column': {}}]))


def test_plugin_file_with_response_preprocessor(write, tmp_path):
    data = write('stsb.jsonl', [{'text1': 'A cat', 'text2': 'A dog', 'label': 2.0}])
    plugin = tmp_path / 'my_plugin.py'
    plugin.write_text(textwrap.dedent(f'''
        from typing import Any, Dict
        from swift.dataset import DatasetMeta, ResponsePreprocessor, register_dataset

        class CustomPreprocessor(ResponsePreprocessor):
            prompt = "Sentence 1: {{text1}}\\nSentence 2: {{text2}}\\nSimilarity score: "

            def preprocess(self, row: Dict[str, Any]) -> Dict[str, Any]:
                return super().preprocess({{
                    'query': self.prompt.format(text1=row['text1'], text2=row['text2']),
                    'response': f"{{row['label']:.1f}}"
                }})

        register_dataset(DatasetMeta(ms_dataset_id='tests/stsb-plugin', dataset_path={data!r},
                                     preprocess_func=CustomPreprocessor()))
    '''))
    spec = importlib.util.spec_from_file_location('my_plugin', plugin)
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    train, _ = load_dataset(['tests/stsb-plugin'])
    assert train[0]['messages'] == [{'role': 'user', 'content': 'Sentence 1: A cat\nSentence 2: A dog\n'
                                     'Similarity score: '}, {'role': 'assistant', 'content': '2.0'}]


def test_duplicate_registration_raises():
    meta = DatasetMeta(ms_dataset_id='tests/dup')
    register_dataset(meta)
    with pytest.raises(ValueError, match='already registered'):
        register_dataset(DatasetMeta(ms_dataset_id='tests/dup'))
    assert DATASET_MAPPING.get('tests/dup') is meta


def test_callable_preprocess_func_and_preprocessor_call(write):
    from datasets import Dataset

    from swift.dataset import ResponsePreprocessor
    data = write('pairs.jsonl', [{'a': 'q', 'b': 'r'}, '{bad'])

    def to_messages(dataset, num_proc=1, strict=False):
        return dataset.map(lambda r: {'messages': [{'role': 'user', 'content': r['a']},
                                                   {'role': 'assistant', 'content': r['b']}]},
                           remove_columns=['a', 'b'])

    register_dataset(DatasetMeta(dataset_name='tests-callable', dataset_path=data, preprocess_func=to_messages))
    train, _ = load_dataset(['tests-callable'])
    assert train[0]['messages'][1]['content'] == 'r'
    out = ResponsePreprocessor(columns={'a': 'query', 'b': 'response'})(Dataset.from_list([{'a': 'q', 'b': 'r'}]))
    assert out[0]['messages'][0]['content'] == 'q'


def test_mixed_type_extra_column_becomes_json_text(write):
    path = write('mixed.jsonl', [{'query': 'q', 'response': 'r', 'solution': 'x'},
                                 {'query': 'q', 'response': 'r', 'solution': [1, 2]}])
    train, _ = load_dataset([path])
    assert train['solution'] == ['x', '[1, 2]']
