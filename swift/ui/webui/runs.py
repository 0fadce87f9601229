"""The run panel under the train and export forms: pick a run, watch its log, progress and loss curve live
(a gr.Timer polls the files the subprocess writes), stop it. Reloading the page lists the runs again."""
from typing import Iterable, List, Optional

import gradio as gr
import pandas as pd

from ..i18n import t
from ..runner import Run, RunManager

POLL_S = 1.0


def run_choices(manager: RunManager, kinds: Iterable[str]) -> List[str]:
    kinds = tuple(f'-{k}' for k in kinds)
    return [r.id for r in manager.list() if r.id.endswith(kinds)]  # the status shows below, kept current


def progress_text(run: Run, rows: List[dict], lang: str) -> str:
    parts = [f'**{t("status", lang)}**: `{run.status}`' + (f' (exit {run.returncode})' if run.returncode else '')]
    last = next((r for r in reversed(rows) if 'global_step/max_steps' in r), None)
    if last:
        parts.append(f'**{t("progress", lang)}**: {last["global_step/max_steps"]} steps, '
                     f'elapsed {last.get("elapsed", "?")}, remaining {last.get("remaining", "?")}')
    folder = RunManager.train_dir(run)
    if folder:
        parts.append(f'output_dir: `{folder}`')
    return '  \n'.join(parts)


def log_tail(text: str, lines: int = 300) -> str:
    """The end of the log: tqdm's carriage-return updates collapsed to their last state."""
    out = [ln.rsplit('\r', 1)[-1] for ln in text.replace('\r\n', '\n').split('\n')]
    return '\n'.join(out[-lines:])


def loss_frame(rows: List[dict]) -> pd.DataFrame:
    points = [{'step': r['step'], 'loss': r['loss']} for r in rows if 'loss' in r and 'step' in r]
    # explicit dtypes: an empty first frame must not make the plot's axes categorical
    return pd.DataFrame(points, columns=['step', 'loss']).astype({'step': 'int64', 'loss': 'float64'})


def build_run_panel(manager: RunManager, kinds: Iterable[str], lang: str, prefix: str, plot: bool = True):
    """Components of the panel; returns (runs dropdown, refresh function giving its update for a new run id)."""
    kinds = tuple(kinds)
    with gr.Row():
        runs = gr.Dropdown(choices=run_choices(manager, kinds), label=t('runs', lang), scale=4,
                           elem_id=f'{prefix}_runs')
        refresh = gr.Button(t('refresh', lang), scale=1, elem_id=f'{prefix}_refresh')
        stop = gr.Button(t('stop', lang), variant='stop', scale=1, elem_id=f'{prefix}_stop')
    status = gr.Markdown(t('no_run', lang), elem_id=f'{prefix}_status')
    with gr.Row():
        log = gr.Textbox(label=t('log', lang), lines=16, max_lines=16, autoscroll=True, scale=3, buttons=['copy'],
                         elem_id=f'{prefix}_log')
        curve = gr.LinePlot(x='step', y='loss', label=t('loss_curve', lang), scale=2, height=330,
                            visible=plot, elem_id=f'{prefix}_loss')
    timer = gr.Timer(POLL_S)

    def show(run_id: Optional[str]):
        if not run_id:
            return t('no_run', lang), '', loss_frame([])
        run = manager.get(run_id)
        rows = RunManager.log_rows(run)
        return progress_text(run, rows, lang), log_tail(manager.read_log(run)), loss_frame(rows)

    def relist(selected: Optional[str] = None):
        choices = run_choices(manager, kinds)
        value = selected if selected in choices else (choices[0] if choices else None)
        return gr.update(choices=choices, value=value)

    def do_stop(run_id):
        if not run_id:
            raise gr.Error(t('no_run', lang))
        manager.stop(run_id)
        gr.Info(f'{t("stopped", lang)}: {run_id}')
        return relist(run_id)

    outputs = [status, log, curve]
    timer.tick(show, runs, outputs, show_progress='hidden')
    runs.change(show, runs, outputs, show_progress='hidden')
    refresh.click(relist, runs, runs)
    stop.click(do_stop, runs, runs)
    return runs, relist
