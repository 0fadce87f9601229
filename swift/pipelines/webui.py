"""`swift web-ui`: arguments -> the Gradio page; every run it starts is a `swift ...` subprocess."""
import os
from typing import Sequence, Union

from swift.arguments.parser import parse_args
from swift.arguments.webui_args import WebUIArguments
from swift.utils import get_logger

logger = get_logger()


def webui_main(args: Union[None, WebUIArguments, Sequence[str]] = None) -> None:
    if not isinstance(args, WebUIArguments):
        args = parse_args(WebUIArguments, args, prog='swift web-ui')
    args.validate()
    from swift.ui.app import check_port, launch
    from swift.ui.runner import RunManager
    from swift.ui.webui import RUNS_DIR, build_webui
    check_port(args.server_name, args.server_port)
    manager = RunManager(os.path.abspath(RUNS_DIR))
    logger.info(f'swift web-ui: runs are kept in {manager.root}')
    demo = build_webui(manager, args.lang)
    try:
        launch(demo, args.server_name, args.server_port, args.share)
    finally:
        manager.stop_servers()  # training runs go on (a restarted web-ui reattaches); chat servers do not
