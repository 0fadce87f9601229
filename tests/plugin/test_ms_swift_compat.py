"""ms-swift 3.x plugin files run unchanged: the names they import from swift.plugin / swift.tuners register into
our registries and take effect; names we lack fail at import with one line naming the file and line."""
import json
import os

import pytest
import safetensors.torch
import torch

from swift.pipelines.sft import sft_main
from swift.utils import ArgumentError

# Modelled on ms-swift's examples/train/multimodal/lora_llm_full_vit plugin: LoRA on the LLM, the vision tower
# trained in full and saved to vit.safetensors, and an optimizer giving the vision tower a tenth of the lr.
VIT_PLUGIN = '''
import os

import safetensors.torch
from transformers import Trainer

from swift.plugin import Tuner, extra_tuners, optimizers_map
from swift.tuners import LoraConfig, Swift

SEEN = {}


class LoraLlmFullVit(Tuner):

    @staticmethod
    def from_pretrained(model, model_id, **kwargs):
        model = Swift.from_pretrained(model, model_id, **kwargs)
        model.load_state_dict(safetensors.torch.load_file(os.path.join(model_id, 'vit.safetensors')), strict=False)
        return model

    @staticmethod
    def save_pretrained(model, save_directory, state_dict=None, safe_serialization=True, **kwargs):
        if state_dict is None:
            state_dict = {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad}
        model.save_pretrained(save_directory, state_dict=state_dict, safe_serialization=safe_serialization, **kwargs)
        vit = {k: v for k, v in state_dict.items() if '.visual.' in k}
        safetensors.torch.save_file(vit, os.path.join(save_directory, 'vit.safetensors'), metadata={'format': 'pt'})

    @staticmethod
    def prepare_model(args, model):
        config = LoraConfig(task_type='CAUSAL_LM', r=args.lora_rank, lora_alpha=args.lora_alpha,
                            target_modules=r'^model.language_model.*\\.(q_proj|k_proj|v_proj|o_proj)$')
        model = Swift.prepare_model(model, config)
        model.visual.requires_grad_(True)
        return model


def vit_tenth_lr(args, model, dataset):
    SEEN.update(dataset_len=len(dataset), freeze_vit=args.freeze_vit, optim=args.optim)
    decay = set(Trainer.get_decay_parameter_names(None, model))
    vit = [(n, p) for n, p in model.named_parameters() if '.visual.' in n and p.requires_grad]
    llm = [(n, p) for n, p in model.named_parameters() if '.visual.' not in n and p.requires_grad]
    vit_lr = 0.1 * args.learning_rate
    groups = [
        {'params': [p for n, p in vit if n in decay], 'weight_decay': args.weight_decay, 'lr': vit_lr},
        {'params': [p for n, p in vit if n not in decay], 'weight_decay': 0.0, 'lr': vit_lr},
        {'params': [p for n, p in llm if n in decay], 'weight_decay': args.weight_decay},
        {'params': [p for n, p in llm if n not in decay], 'weight_decay': 0.0},
    ]
    optimizer_cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(args, model)
    return optimizer_cls(groups, **kwargs), None


extra_tuners['lora_llm_full_vit'] = LoraLlmFullVit
optimizers_map['vit_tenth_lr'] = vit_tenth_lr
'''

# loss_mapping / metric_mapping / extra_callbacks, each recording that it ran.
TRAINING_PLUGIN = '''
from transformers import TrainerCallback

from swift.plugin import compute_acc, extra_callbacks, loss_mapping, metric_mapping
from swift.trainers import causal_lm_loss

CALLS = {'loss': 0, 'trainer': None, 'metric': 0, 'steps': 0}


def halved_ce(outputs, labels, loss_scale=None, num_items_in_batch=None, trainer=None):
    CALLS['loss'] += 1
    CALLS['trainer'] = type(trainer).__name__
    return 0.5 * causal_lm_loss(outputs.logits, labels, loss_scale, num_items_in_batch)


def preprocess(logits, labels):
    return logits.argmax(-1)


def token_acc(eval_prediction):
    CALLS['metric'] += 1
    acc = compute_acc(eval_prediction.predictions, eval_prediction.label_ids)['token_acc']
    return {'plugin_acc': sum(acc) / len(acc)}


class CountSteps(TrainerCallback):

    def on_step_end(self, args, state, control, **kwargs):
        CALLS['steps'] += 1


loss_mapping['halved_ce'] = halved_ce
metric_mapping['plugin_acc'] = (token_acc, preprocess)
extra_callbacks.append(CountSteps())
'''


def _loaded(path):
    from swift.plugin.loader import _LOADED
    return _LOADED[os.path.abspath(str(path))]


def test_lora_llm_full_vit_plugin_trains_saves_and_uses_its_optimizer(tmp_path):
    plugin = tmp_path / 'vit_plugin.py'
    plugin.write_text(VIT_PLUGIN)
    lr = 1e-3
    result = sft_main(['--model', 'swift/tiny-qwen2-vl', '--dataset', 'swift/shapes-vqa#8', '--train_type',
                       'lora_llm_full_vit', '--external_plugins', str(plugin), '--optimizer', 'vit_tenth_lr',
                       '--learning_rate', str(lr), '--max_steps', '2', '--split_dataset_ratio', '0',
                       '--output_dir', str(tmp_path / 'out'), '--report_to', 'none', '--add_version', 'false'])
    seen = _loaded(plugin).SEEN
    # args reads the TrainingArguments (optim) and the swift arguments (freeze_vit); dataset is the train set
    assert seen == {'dataset_len': 8, 'freeze_vit': True, 'optim': result['trainer'].args.optim}
    optimizer = result['trainer'].optimizer
    groups = [g for g in optimizer.param_groups if g['params']]
    vit_ids = {id(p) for n, p in result['trainer'].model.named_parameters() if '.visual.' in n}
    kinds = []
    for group in groups:
        is_vit = {id(p) in vit_ids for p in group['params']}
        assert len(is_vit) == 1
        kinds.append(is_vit.pop())
        assert group['initial_lr'] == pytest.approx(0.1 * lr if kinds[-1] else lr)
    assert kinds.count(True) == 2 and kinds.count(False) >= 1  # vit with/without decay; LoRA weights all decay
    ckpt = result['last_model_checkpoint']
    vit = safetensors.torch.load_file(os.path.join(ckpt, 'vit.safetensors'))
    assert vit and all('.visual.' in k for k in vit)
    # from_pretrained puts the trained vision tower back onto a fresh model
    from swift.model import get_model_tokenizer
    from swift.plugin import tuners
    base, _ = get_model_tokenizer('swift/tiny-qwen2-vl')
    name, trained = next((k, v) for k, v in vit.items() if k.endswith('weight'))
    plain = name.replace('base_model.model.', '', 1)
    assert not torch.equal(base.state_dict()[plain], trained)
    loaded = tuners.get('lora_llm_full_vit').from_pretrained(base, ckpt)
    assert torch.equal(loaded.state_dict()[name], trained)
    # swift infer / swift export read train_type and the plugin file from args.json and load through the plugin
    from swift.arguments import InferArguments, parse_args
    from swift.pipelines.export import export_main
    from swift.pipelines.infer import build_engine
    args = parse_args(InferArguments, ['--adapters', ckpt])
    args.validate()
    args.resolve()
    assert args.train_type == 'lora_llm_full_vit'
    assert torch.equal(build_engine(args).model.state_dict()[name], trained)
    out = tmp_path / 'merged'
    export_main(['--adapters', ckpt, '--merge_lora', 'true', '--output_dir', str(out)])
    from transformers import AutoModelForImageTextToText
    assert torch.equal(AutoModelForImageTextToText.from_pretrained(out).state_dict()[plain], trained)


def test_loss_metric_and_callback_registered_the_ms_swift_way(tmp_path):
    plugin = tmp_path / 'train_plugin.py'
    plugin.write_text(TRAINING_PLUGIN)
    data = tmp_path / 'd.jsonl'
    data.write_text('\n'.join(json.dumps({'query': f'q{i}', 'response': f'answer {i}'}) for i in range(10)))
    from swift.plugin import extra_callbacks
    try:
        result = sft_main(['--model', 'swift/tiny-qwen2', '--dataset', str(data), '--external_plugins', str(plugin),
                           '--loss_type', 'halved_ce', '--metric', 'plugin_acc', '--split_dataset_ratio', '0.2',
                           '--max_steps', '2', '--eval_steps', '2', '--save_steps', '2', '--output_dir',
                           str(tmp_path / 'out'), '--report_to', 'none', '--add_version', 'false'])
    finally:
        extra_callbacks.clear()  # the list is process-wide: later tests' trainers should not count steps here
    calls = _loaded(plugin).CALLS
    assert calls['loss'] >= 2 and calls['trainer'] == 'Seq2SeqTrainer'
    assert calls['metric'] >= 1 and calls['steps'] == 2
    evals = [row for row in result['log_history'] if 'eval_loss' in row]
    assert 0 <= evals[-1]['eval_plugin_acc'] <= 1


@pytest.mark.parametrize('line, name', [('from swift.plugin import orms, multi_turns', 'multi_turns'),
                                        ('from swift.tuners import LoraConfig, SwiftModel', 'SwiftModel')])
def test_unsupported_ms_swift_name_is_one_line(tmp_path, line, name):
    plugin = tmp_path / 'unsupported.py'
    plugin.write_text(f'import os\n{line}\n')
    with pytest.raises(ArgumentError) as info:
        sft_main(['--model', 'swift/tiny-qwen2', '--dataset', 'swift/shapes-vqa#8', '--external_plugins',
                  str(plugin), '--output_dir', str(tmp_path / 'out')])
    message = str(info.value)
    assert '\n' not in message
    assert f'{plugin}:2: `{name}`' in message and 'ms-swift feature not available here' in message


def test_swift_prepare_model_with_several_peft_configs():
    from swift.model import get_model_tokenizer
    from swift.tuners import LoraConfig, PeftModel, Swift
    model, _ = get_model_tokenizer('swift/tiny-qwen2')
    model = Swift.prepare_model(model, {'a': LoraConfig(r=2, target_modules=['q_proj']),
                                        'b': LoraConfig(r=4, target_modules=['v_proj'])})
    assert isinstance(model, PeftModel) and set(model.peft_config) == {'a', 'b'} and model.active_adapter == 'a'
    with pytest.raises(ArgumentError, match='only peft configs'):
        Swift.prepare_model(model, {'c': object()})


def test_metric_helpers_and_loss_scale_map():
    from swift.plugin import MeanMetric, compute_acc, compute_rouge_bleu, loss_scale_map
    from swift.template import get_loss_scale
    mean = MeanMetric()
    mean.update(torch.tensor([1., 0.]))
    mean.update(1.)
    assert mean.compute() == {'value': pytest.approx(2 / 3)}
    mean.reset()
    assert mean.compute() == {'value': 0}
    preds, labels = torch.tensor([[0, 6, 7, 7]]), torch.tensor([[-100, -100, 6, 9]])  # shifted: 6=6, 7!=9
    assert compute_acc(preds, labels) == {'token_acc': [True, False]}
    assert compute_acc(preds, labels, acc_strategy='seq') == {'seq_acc': [False]}
    scores = compute_rouge_bleu(['the cat sat on the mat'], ['the cat sat on the mat'])
    assert scores == {'rouge-1': 100., 'rouge-2': 100., 'rouge-l': 100., 'bleu-4': 100.}

    class HalfResponse:

        def get_loss_scale(self, context, context_type, is_last_round, **kwargs):
            return [context], [0.5]

    loss_scale_map['test_half'] = HalfResponse
    assert get_loss_scale('test_half')('x', None, True) == (['x'], [0.5])


def test_swift_llm_names_grpo_plugins_import():
    from swift.llm import InferRequest, PtEngine, RequestConfig, Template, to_device  # noqa: F401
    moved = to_device({'ids': [torch.ones(2)], 'n': 3}, 'cpu')
    assert moved['n'] == 3 and moved['ids'][0].device.type == 'cpu'


def test_loader_reports_only_the_files_own_entries(tmp_path):
    """In a fresh process the plugin's `import swift.tuners` registers the built-in optimizers; they are not the
    file's."""
    import subprocess
    import sys
    plugin = tmp_path / 'vit_plugin.py'
    plugin.write_text(VIT_PLUGIN)
    code = ('from swift.plugin.loader import import_plugin_files\n'
            f'print(import_plugin_files([{str(plugin)!r}], "external_plugins"))')
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                         env={**os.environ, 'PYTHONPATH': root}).stdout
    assert out.strip().splitlines()[-1] == "['optimizers: vit_tenth_lr', 'tuners: lora_llm_full_vit']"


def test_peft_tuner_saves_and_loads_the_default_adapter(tmp_path):
    from swift.model import get_model_tokenizer
    from swift.plugin import PeftTuner
    from swift.tuners import IA3Config, PeftModel, get_peft_model
    model, _ = get_model_tokenizer('swift/tiny-qwen2')
    config = IA3Config(target_modules=['k_proj', 'down_proj'], feedforward_modules=['down_proj'])
    model = get_peft_model(model, config)
    with torch.no_grad():
        next(p for n, p in model.named_parameters() if 'ia3' in n).fill_(2.)
    PeftTuner.save_pretrained(model, str(tmp_path / 'ia3'))
    base, _ = get_model_tokenizer('swift/tiny-qwen2')
    loaded = PeftTuner.from_pretrained(base, str(tmp_path / 'ia3'))
    assert isinstance(loaded, PeftModel)
    assert torch.equal(loaded.state_dict()[next(k for k in loaded.state_dict() if 'ia3' in k)],
                       model.state_dict()[next(k for k in model.state_dict() if 'ia3' in k)])
