"""Infer tab: serve a checkpoint with `swift deploy --ckpt_dir ...` in a subprocess (a run like any other) and chat
with it through InferClient, with the same chat panel as `swift app`."""
import json
import socket
import time
import urllib.request
from typing import Dict, List, Optional

import gradio as gr

from swift.infer import InferClient, RequestConfig
from ..chat import build_chat
from ..commands import build_argv, check, command_line, subprocess_argv
from ..i18n import field_label, t
from ..runner import RunManager

_CLIENTS: Dict[str, InferClient] = {}  # base_url -> client; gr.State would deep-copy it per session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def checkpoint_choices(manager: RunManager) -> List[str]:
    """Checkpoints of the finished training runs, newest run first."""
    out = []
    for run in manager.list():
        if run.id.endswith(('-sft', '-rlhf')) and run.status == 'finished':
            out += reversed(RunManager.checkpoints(run))
    return out


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f'{base_url}/models', timeout=2) as resp:
            return bool(json.loads(resp.read()).get('data'))
    except OSError:
        return False


def last_error(log: str) -> str:
    lines = [ln for ln in log.splitlines() if ln.strip()]
    errors = [ln for ln in lines if 'error' in ln.lower()]
    return (errors or lines or ['(no output)'])[-1]


def wait_ready(manager: RunManager, run_id: str, base_url: str, timeout: float = 600) -> Optional[str]:
    """None once the server lists its models; the reason when the process ends first or time runs out."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = manager.get(run_id)
        if run.finished:
            return last_error(manager.read_log(run))
        if _ready(base_url):
            return None
        time.sleep(0.5)
    manager.stop(run_id)
    return f'swift deploy did not answer within {timeout:.0f} s'


def build_infer_tab(manager: RunManager, lang: str):
    with gr.Row():
        ckpt = gr.Dropdown(checkpoint_choices(manager), allow_custom_value=True, scale=4,
                           label=field_label('ckpt_dir', lang),
                           elem_id='infer_ckpt_dir')
        model = gr.Textbox(label=field_label('model', lang), placeholder='args.json', scale=2, elem_id='infer_model')
        refresh = gr.Button(t('refresh', lang), scale=1, elem_id='infer_refresh')
    with gr.Row():
        load = gr.Button(t('load', lang), variant='primary', elem_id='infer_load')
        unload = gr.Button(t('unload', lang), elem_id='infer_unload')
    status = gr.Markdown(t('not_loaded', lang), elem_id='infer_status')
    server = gr.State(None)  # (run id, base_url) of the deploy subprocess this page started

    def get_engine(current):
        if not current or current[1] not in _CLIENTS:
            raise gr.Error(t('not_loaded', lang))
        return _CLIENTS[current[1]], None

    def do_load(ckpt_dir, model_id, current):
        if current:
            _stop(current)
        port = free_port()
        argv = build_argv('deploy', {'ckpt_dir': ckpt_dir, 'model': model_id, 'host': '127.0.0.1', 'port': port,
                                     'verbose': False})
        error = check('deploy', argv)
        if error:
            raise gr.Error(error, duration=None)
        line = command_line('deploy', argv)
        run = manager.start('deploy', line, subprocess_argv('deploy', argv))
        yield f'{t("loading", lang)} `{line}`', None
        base_url = f'http://127.0.0.1:{port}/v1'
        error = wait_ready(manager, run.id, base_url)
        if error:
            raise gr.Error(error, duration=None)
        _CLIENTS[base_url] = InferClient(base_url=base_url, timeout=120)
        yield f'{t("ready", lang)}: `{line}`', (run.id, base_url)

    def _stop(current):
        run_id, base_url = current
        client = _CLIENTS.pop(base_url, None)
        if client is not None:
            client.close()
        manager.stop(run_id)

    def do_unload(current):
        if current:
            _stop(current)
        return t('not_loaded', lang), None

    load.click(do_load, [ckpt, model, server], [status, server])
    unload.click(do_unload, server, [status, server])
    refresh.click(lambda: gr.update(choices=checkpoint_choices(manager)), None, ckpt)
    build_chat(get_engine, RequestConfig(max_tokens=128), lang, elem_prefix='infer', engine_inputs=[server])
    return ckpt
