"""`swift web-ui`: train, infer and export tabs over one RunManager (runs under <cwd>/output/web-ui)."""
import gradio as gr

from ..i18n import t
from ..runner import RunManager
from .export import build_export_tab
from .infer import build_infer_tab, checkpoint_choices
from .train import build_train_tab

RUNS_DIR = 'output/web-ui'


def build_webui(manager: RunManager, lang: str = 'zh') -> gr.Blocks:
    with gr.Blocks(title=t('title', lang), analytics_enabled=False) as demo:
        gr.Markdown(f'# {t("title", lang)}')
        with gr.Tabs():
            with gr.Tab(t('tab_train', lang), id='train', elem_id='tab_train'):
                runs, relist = build_train_tab(manager, lang)
            with gr.Tab(t('tab_infer', lang), id='infer', elem_id='tab_infer') as infer_tab:
                ckpt = build_infer_tab(manager, lang)
            with gr.Tab(t('tab_export', lang), id='export', elem_id='tab_export') as export_tab:
                adapters = build_export_tab(manager, lang)
        # A reopened page lists the runs again and shows the newest one (reattach).
        demo.load(relist, None, runs)
        infer_tab.select(lambda current: _refresh(manager, current), ckpt, ckpt)
        export_tab.select(lambda: gr.update(choices=checkpoint_choices(manager)), None, adapters)
    return demo


def _refresh(manager: RunManager, current):
    """New checkpoints in the list; the newest preselected unless the user typed one."""
    choices = checkpoint_choices(manager)
    return gr.update(choices=choices, value=current or (choices[0] if choices else None))
