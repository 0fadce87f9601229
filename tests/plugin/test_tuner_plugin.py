"""A tuner registered from an --external_plugins file is selectable with --train_type, trains, saves, reloads."""
import json

import pytest
import torch
from transformers import AutoModelForCausalLM

from swift.model.tiny import get_tiny_model_dir
from swift.pipelines.sft import sft_main
from swift.utils import ArgumentError

PLUGIN = '''
from peft import IA3Config, PeftModel, get_peft_model

from swift.plugin import Tuner, tuners


class IA3(Tuner):

    @staticmethod
    def prepare_model(args, model):
        config = IA3Config(target_modules=['k_proj', 'v_proj', 'down_proj'], feedforward_modules=['down_proj'])
        return get_peft_model(model, config)

    @staticmethod
    def from_pretrained(model, model_id, **kwargs):
        return PeftModel.from_pretrained(model, model_id, **kwargs)


tuners['my_ia3'] = IA3
'''


def test_plugin_tuner_trains_and_reloads(tmp_path):
    plugin = tmp_path / 'my_tuner.py'
    plugin.write_text(PLUGIN)
    data = tmp_path / 'd.jsonl'
    data.write_text('\n'.join(json.dumps({'query': f'q{i}', 'response': f'answer {i}'}) for i in range(6)))
    common = ['--model', 'swift/tiny-qwen2', '--dataset', str(data), '--split_dataset_ratio', '0',
              '--max_steps', '3', '--learning_rate', '0.05', '--report_to', 'none', '--add_version', 'false',
              '--save_strategy', 'no']
    result = sft_main(common + ['--external_plugins', str(plugin), '--train_type', 'my_ia3', '--output_dir',
                                str(tmp_path / 'out')])
    ckpt = result['last_model_checkpoint']
    assert json.load(open(f'{ckpt}/adapter_config.json'))['peft_type'] == 'IA3'
    from swift.plugin import tuners
    base = AutoModelForCausalLM.from_pretrained(get_tiny_model_dir('swift/tiny-qwen2'))
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        before = base(input_ids=ids).logits
        after = tuners.get('my_ia3').from_pretrained(base, ckpt)(input_ids=ids).logits
    assert not torch.allclose(before, after)
    with pytest.raises(ArgumentError, match='my_ia4: unknown tuner.*my_ia3'):
        sft_main(common + ['--train_type', 'my_ia4', '--output_dir', str(tmp_path / 'o2')])
