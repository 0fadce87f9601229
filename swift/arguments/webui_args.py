"""`swift web-ui` arguments (002 "Web-UI参数"): where the Gradio page listens and its language."""
from dataclasses import dataclass
from typing import Literal

from swift.utils import ArgumentError
from .groups import _help


@dataclass
class WebUIArguments:
    """The Gradio web UI for training, inference and export."""
    group_title = 'web-ui arguments'
    server_name: str = _help("Address the page listens on; 0.0.0.0 is every interface (127.0.0.1: this machine "
                             "only).", default='0.0.0.0')
    server_port: int = _help('Port of the page.', default=7860)
    share: bool = _help('Also publish the page through a public Gradio share link (needs internet).', default=False)
    lang: Literal['zh', 'en'] = _help("Page language: 'zh' or 'en'.", default='zh')

    @classmethod
    def rejections(cls):
        """Field -> why it is refused when set: none, the page reads every field."""
        return {}

    def validate(self):
        if not 0 < self.server_port < 65536:
            raise ArgumentError(f'--server_port must be in 1..65535, got {self.server_port}.')
