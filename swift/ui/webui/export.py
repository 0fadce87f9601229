"""Export tab: `swift export` (merge LoRA, GGUF, Ollama, quantize) from a checkpoint, previewed and streamed."""
from typing import Dict

import gradio as gr

from ..commands import build_argv, check, command_line, field_defaults, subprocess_argv
from ..i18n import field_label, t
from ..runner import RunManager
from .infer import checkpoint_choices
from .runs import build_run_panel


def build_form(manager: RunManager, lang: str) -> Dict[str, gr.components.Component]:
    from swift.arguments.export_args import EXPORT_QUANT_METHODS, GGUF_QUANT_TYPES
    defaults = field_defaults('export')
    f: Dict[str, gr.components.Component] = {}
    with gr.Row():
        f['adapters'] = gr.Dropdown(checkpoint_choices(manager), value=[], multiselect=True, allow_custom_value=True,
                                    scale=4, label=field_label('adapters', lang), elem_id='export_adapters')
        f['model'] = gr.Textbox(label=field_label('model', lang), placeholder='args.json', scale=2,
                                elem_id='export_model')
        f['output_dir'] = gr.Textbox(label=field_label('output_dir', lang), scale=2, elem_id='export_output_dir')
    with gr.Row():
        f['merge_lora'] = gr.Checkbox(defaults['merge_lora'], label=field_label('merge_lora', lang),
                                      elem_id='export_merge_lora')
        f['to_gguf'] = gr.Checkbox(defaults['to_gguf'], label=field_label('to_gguf', lang), elem_id='export_to_gguf')
        f['gguf_quant_type'] = gr.Dropdown(list(GGUF_QUANT_TYPES), value=defaults['gguf_quant_type'],
                                           label=field_label('gguf_quant_type', lang), elem_id='export_gguf_type')
        f['to_ollama'] = gr.Checkbox(defaults['to_ollama'], label=field_label('to_ollama', lang),
                                     elem_id='export_to_ollama')
        f['quant_method'] = gr.Dropdown(['', *EXPORT_QUANT_METHODS], value='', label=field_label('quant_method', lang),
                                        elem_id='export_quant_method')
        f['quant_bits'] = gr.Dropdown(['', '2', '3', '4', '8'], value='', label=field_label('quant_bits', lang),
                                      elem_id='export_quant_bits')
    f['extra'] = gr.Textbox(label=t('extra_args', lang), elem_id='export_extra')
    return f


def build_export_tab(manager: RunManager, lang: str):
    form = build_form(manager, lang)
    keys = list(form)
    with gr.Row():
        preview = gr.Button(t('preview', lang), elem_id='export_preview')
        start = gr.Button(t('start', lang), variant='primary', elem_id='export_start')
    command_box = gr.Code(label=t('command', lang), language='shell', interactive=False, wrap_lines=True, lines=2,
                          elem_id='export_cmd')
    runs, relist = build_run_panel(manager, ('export', ), lang, 'export', plot=False)

    def parsed(*values):
        from swift.utils import SwiftError
        values = dict(zip(keys, values))
        extra = values.pop('extra')
        try:
            argv = build_argv('export', values, extra)
        except SwiftError as e:
            raise gr.Error(str(e)) from None
        return argv, check('export', argv)

    def do_preview(*values):
        argv, error = parsed(*values)
        return f'{command_line("export", argv)}\n# {"error: " + error if error else t("valid", lang)}'

    def do_start(*values):
        argv, error = parsed(*values)
        if error:
            raise gr.Error(error, duration=None)
        run = manager.start('export', command_line('export', argv), subprocess_argv('export', argv))
        gr.Info(f'{t("started", lang)}: {run.id}')
        return command_line('export', argv), relist(run.id)

    inputs = [form[k] for k in keys]
    preview.click(do_preview, inputs, command_box)
    start.click(do_start, inputs, [command_box, runs])
    return form['adapters']
