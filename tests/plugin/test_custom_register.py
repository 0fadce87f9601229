"""An unchanged ms-swift 3.x registration file (docs' custom model/template/dataset example) works here."""
import json

import pytest

from swift.pipelines.sft import sft_main
from swift.utils import ArgumentError

MS_SWIFT_FILE = '''
from typing import Any, Dict

from swift.llm import (DatasetMeta, Model, ModelGroup, ModelMeta, ResponsePreprocessor, TemplateMeta,
                       get_model_tokenizer_with_flash_attn, register_dataset, register_model, register_template)

register_template(
    TemplateMeta(
        template_type='custom',
        prefix=['<extra_id_0>System\\n{{SYSTEM}}\\n'],
        prompt=['<extra_id_1>User\\n{{QUERY}}\\n<extra_id_1>Assistant\\n'],
        chat_sep=['\\n']))

register_model(
    ModelMeta(
        model_type='custom',
        model_groups=[
            ModelGroup([Model('AI-ModelScope/Nemotron-Mini-4B-Instruct', 'nvidia/Nemotron-Mini-4B-Instruct')])
        ],
        template='custom',
        get_function=get_model_tokenizer_with_flash_attn,
        ignore_patterns=['nemo']))


class CustomPreprocessor(ResponsePreprocessor):
    prompt = """Task: Based on the given two sentences, provide a similarity score between 0.0 and 5.0.
Sentence 1: {text1}
Sentence 2: {text2}
Similarity score: """

    def preprocess(self, row: Dict[str, Any]) -> Dict[str, Any]:
        return super().preprocess({
            'query': self.prompt.format(text1=row['text1'], text2=row['text2']),
            'response': f"{row['label']:.1f}"
        })


register_dataset(
    DatasetMeta(
        dataset_path=DATA_PATH,
        dataset_name='my-stsb',
        preprocess_func=CustomPreprocessor(),
    ))
'''


@pytest.fixture
def plugin_file(tmp_path):
    data = tmp_path / 'stsb.jsonl'
    data.write_text('\n'.join(
        json.dumps({'text1': f'a cat sat {i}', 'text2': f'a dog sat {i}', 'label': i / 4}) for i in range(12)))
    path = tmp_path / 'my_register.py'
    path.write_text(f'DATA_PATH = {str(data)!r}\n' + MS_SWIFT_FILE)
    return path


def test_ms_swift_register_file_trains(plugin_file, tmp_path, capsys):
    common = ['--custom_register_path', str(plugin_file), '--model', 'swift/tiny-qwen2', '--template', 'custom',
              '--dataset', 'my-stsb']
    sft_main(common + ['--dry_run', 'true'])
    out = capsys.readouterr().out
    assert '<extra_id_1>Assistant' in out and 'Similarity score' in out
    result = sft_main(common + ['--max_steps', '2', '--output_dir', str(tmp_path / 'out'), '--report_to', 'none',
                                '--split_dataset_ratio', '0', '--save_strategy', 'no'])
    assert result['log_history']


def test_register_file_that_registers_nothing(tmp_path):
    empty = tmp_path / 'nothing.py'
    empty.write_text('x = 1\n')
    with pytest.raises(ArgumentError, match='registered nothing'):
        sft_main(['--custom_register_path', str(empty), '--model', 'swift/tiny-qwen2', '--dataset', 'a.jsonl'])
    with pytest.raises(ArgumentError, match='not found'):
        sft_main(['--custom_register_path', str(tmp_path / 'missing.py'), '--model', 'swift/tiny-qwen2'])
