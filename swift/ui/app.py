"""`swift app`: one chat page in front of an engine the pipeline built (pt in-process or an InferClient)."""
import errno
import signal
import socket
from typing import Optional

import gradio as gr

from swift.infer import AdapterRequest, RequestConfig
from swift.utils import ArgumentError
from .chat import build_chat
from .i18n import t


def build_app(engine, request_config: RequestConfig, title: str, lang: str = 'en',
              default_system: Optional[str] = None, model_name: Optional[str] = None,
              adapter_request: Optional[AdapterRequest] = None, images: bool = False) -> gr.Blocks:
    with gr.Blocks(title=title, analytics_enabled=False) as demo:
        gr.Markdown(f'# {title}', elem_id='app_title')
        if model_name and model_name != title:
            gr.Markdown(f'{t("model_label", lang)}: `{model_name}`')
        build_chat(lambda: (engine, adapter_request), request_config, lang, default_system, elem_prefix='app',
                   images=images)
    return demo


def takes_images(engine) -> bool:
    """Whether the page offers image uploads: a local multimodal model, or a server (which may serve one and
    answers a text-only model's image request with a one-line error)."""
    template = getattr(engine, 'template', None)
    return getattr(template, 'is_multimodal', False) if template is not None else hasattr(engine, 'base_url')


def check_port(host: str, port: int, flag: str = '--server_port') -> None:
    """Fail in one line before Gradio tries (and prints its own traceback) when the port is taken."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is not "in use"
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise ArgumentError(f'{flag} {port}: {host}:{port} is already in use; stop what runs there or pick '
                                    f'another {flag}.') from None
            raise ArgumentError(f'--server_name {host}: cannot listen there ({e.strerror}).') from None


def launch(demo: gr.Blocks, server_name: str, server_port: int, share: bool) -> None:
    check_port(server_name, server_port)
    shown = '127.0.0.1' if server_name in ('0.0.0.0', '::') else server_name
    print(f'Running on http://{shown}:{server_port} (Ctrl+C to stop)', flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # Gradio closes on KeyboardInterrupt; callers' finally runs
    demo.queue().launch(server_name=server_name, server_port=server_port, share=share, quiet=True,
                        footer_links=[], ssr_mode=False)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
