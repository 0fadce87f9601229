"""Train tab: a form whose fields are `swift sft` / `swift rlhf` argument names -> preview, validate, run."""
import os
import shlex
import subprocess
from typing import Dict, List

import gradio as gr

from ..commands import arguments_class, build_argv, check, command_line, field_defaults, subprocess_argv
from ..i18n import field_label, t
from ..runner import RunManager
from .runs import build_run_panel

HYPER = ('num_train_epochs', 'max_steps', 'learning_rate', 'per_device_train_batch_size',
         'gradient_accumulation_steps', 'max_length', 'logging_steps', 'save_steps', 'split_dataset_ratio')
LORA = ('lora_rank', 'lora_alpha')
NAME_LISTS = ('model_name', 'model_author')  # two values: Chinese then English


def model_choices() -> List[str]:
    from swift.model import MODEL_MAPPING
    from swift.model.tiny import TINY_MODELS
    ids = [m.ms_model_id or m.hf_model_id for meta in MODEL_MAPPING.values() for g in meta.model_groups
           for m in g.models]
    return list(TINY_MODELS) + sorted({i for i in ids if i and i not in TINY_MODELS})


def dataset_choices() -> List[str]:
    from swift.dataset import DATASET_MAPPING
    return sorted(n for n in DATASET_MAPPING.keys() if not os.path.isabs(n))


def _number(name: str, defaults: Dict, lang: str, **kw):
    default = defaults[name]
    if default is None:  # gr.Number cannot be empty (it sends 0): unset means the argument's own default
        return gr.Textbox(label=field_label(name, lang), placeholder='default', elem_id=f'train_{name}', **kw)
    precision = 0 if isinstance(default, int) and not isinstance(default, bool) else None
    return gr.Number(value=default, label=field_label(name, lang), precision=precision, elem_id=f'train_{name}', **kw)


def build_form(lang: str) -> Dict[str, gr.components.Component]:
    from swift.arguments.base_args import TRAIN_TYPES
    from swift.arguments.rlhf_args import RLHF_TYPES
    sft, rlhf = field_defaults('sft'), field_defaults('rlhf')
    f: Dict[str, gr.components.Component] = {}
    with gr.Row():
        f['command'] = gr.Radio(['sft', 'rlhf'], value='sft', label='swift', scale=1, elem_id='train_command')
        f['model'] = gr.Dropdown(model_choices(), value='swift/tiny-qwen2', allow_custom_value=True, scale=3,
                                 label=field_label('model', lang), elem_id='train_model')
        f['dataset'] = gr.Dropdown(dataset_choices(), value=[], multiselect=True, allow_custom_value=True, scale=4,
                                   label=field_label('dataset', lang), elem_id='train_dataset')
    with gr.Row():
        f['train_type'] = gr.Dropdown(list(TRAIN_TYPES), value=sft['train_type'],
                                      label=field_label('train_type', lang), elem_id='train_train_type')
        f['rlhf_type'] = gr.Dropdown(list(RLHF_TYPES), value=rlhf['rlhf_type'], visible=False,
                                     label=field_label('rlhf_type', lang), elem_id='train_rlhf_type')
        f['beta'] = gr.Textbox(visible=False, placeholder='default', label=field_label('beta', lang),
                               elem_id='train_beta')
        f['torch_dtype'] = gr.Dropdown(['', 'float32', 'bfloat16', 'float16'], value='',
                                       label=field_label('torch_dtype', lang), elem_id='train_torch_dtype')
        f['output_dir'] = gr.Textbox(label=field_label('output_dir', lang), placeholder='output/<model>',
                                     elem_id='train_output_dir')
    with gr.Accordion(t('hyper', lang), open=True):
        for names in (HYPER[:5], HYPER[5:]):
            with gr.Row():
                for name in names:
                    f[name] = _number(name, sft, lang)
    with gr.Accordion(t('lora', lang), open=True):
        with gr.Row():
            for name in LORA:
                f[name] = _number(name, sft, lang)
            for name, example in zip(NAME_LISTS, ("小黄 'Xiao Huang'", '魔搭 ModelScope')):
                f[name] = gr.Textbox(label=field_label(name, lang), placeholder=example, elem_id=f'train_{name}')
    f['extra'] = gr.Textbox(label=t('extra_args', lang), elem_id='train_extra')
    return f


def form_argv(values: Dict) -> tuple:
    """(command, argv) of the form values; raises ArgumentError for unbalanced quotes."""
    command = values.pop('command')
    extra = values.pop('extra')
    if command == 'sft':
        values.pop('rlhf_type')
        values.pop('beta')
    for name in NAME_LISTS:
        values[name] = shlex.split(values[name] or '')
    return command, build_argv(command, values, extra)


def output_dir_of(argv: List[str], model: str) -> str:
    """Where the run writes: --output_dir, else the training default output/<model suffix>."""
    from swift.arguments.train_args import model_suffix
    if '--output_dir' in argv:
        return argv[argv.index('--output_dir') + 1]
    return os.path.join('output', model_suffix(model))


def build_train_tab(manager: RunManager, lang: str):
    form = build_form(lang)
    keys = list(form)
    with gr.Row():
        preview = gr.Button(t('preview', lang), elem_id='train_preview')
        data = gr.Button(t('data_preview', lang), elem_id='train_data')
        start = gr.Button(t('start', lang), variant='primary', elem_id='train_start')
    command_box = gr.Code(label=t('command', lang), language='shell', interactive=False, wrap_lines=True, lines=2,
                          elem_id='train_cmd')
    with gr.Accordion(t('data_preview', lang), open=False) as data_box:
        rows = gr.Dataframe(headers=['row', 'role', 'content'], label=t('data_rows', lang), wrap=True,
                            interactive=False, elem_id='train_rows')
        encoded = gr.Textbox(label=t('dry_run', lang), lines=10, elem_id='train_encoded')
    runs, relist = build_run_panel(manager, ('sft', 'rlhf'), lang, 'train')

    def parsed(*values):
        from swift.utils import SwiftError
        try:
            command, argv = form_argv(dict(zip(keys, values)))
        except SwiftError as e:
            raise gr.Error(str(e)) from None
        return command, argv

    def do_preview(*values):
        command, argv = parsed(*values)
        error = check(command, argv)
        line = command_line(command, argv)
        return f'{line}\n# {"error: " + error if error else t("valid", lang)}'

    def do_start(*values):
        command, argv = parsed(*values)
        error = check(command, argv)
        if error:
            raise gr.Error(error, duration=None)
        run = manager.start(command, command_line(command, argv), subprocess_argv(command, argv),
                            output_dir=output_dir_of(argv, values[keys.index('model')]))
        gr.Info(f'{t("started", lang)}: {run.id}')
        return command_line(command, argv), relist(run.id)

    def do_data(*values):
        command, argv = parsed(*values)
        error = check(command, argv)
        if error:
            raise gr.Error(error, duration=None)
        return gr.update(open=True), first_rows(command, argv), dry_run(command, argv)

    inputs = [form[k] for k in keys]
    preview.click(do_preview, inputs, command_box)
    start.click(do_start, inputs, [command_box, runs])
    data.click(do_data, inputs, [data_box, rows, encoded])
    form['command'].change(lambda c: [gr.update(visible=c == 'rlhf')] * 2, form['command'],
                           [form['rlhf_type'], form['beta']])
    return runs, relist


def first_rows(command: str, argv: List[str], n: int = 3) -> List[list]:
    """The messages of the first canonical rows of the first --dataset (what the template will see)."""
    from swift.arguments.parser import parse_args
    from swift.dataset import load_dataset
    from swift.utils import SwiftError
    args = parse_args(arguments_class(command), argv)
    if not args.dataset:
        raise gr.Error('--dataset is empty.')
    try:
        train, _ = load_dataset([f'{args.dataset[0].split("#")[0]}#{n}'], split_dataset_ratio=0.,
                                model_name=args.model_name or None, model_author=args.model_author or None)
    except SwiftError as e:
        raise gr.Error(str(e)) from None
    return [[i, m['role'], m['content']] for i, row in enumerate(train) for m in row['messages']]


def dry_run(command: str, argv: List[str], timeout: float = 300) -> str:
    """`swift <command> ... --dry_run true` in a subprocess: one encoded sample and the dataset statistics."""
    try:
        out = subprocess.run(subprocess_argv(command, [*argv, '--dry_run', 'true']), capture_output=True, text=True,
                             timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f'dry run did not finish in {timeout:.0f} s'
    lines = out.stdout.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith('[dry run]')), None)
    if out.returncode == 0 and start is not None:
        return '\n'.join(lines[start:])
    return '\n'.join((out.stdout + out.stderr).splitlines()[-20:])
