"""`swift app` arguments (002 "App参数"): the deploy arguments, the web-ui arguments and the chat page's own.

Without --base_url the model is loaded in this process (as `swift infer` loads it); with --base_url the page is a
client of any OpenAI-compatible server, so the arguments that load weights or run a server are rejected by name.
"""
import dataclasses
from dataclasses import dataclass
from typing import Literal, Optional

from swift.utils import ArgumentError
from .base_args import BaseArguments
from .deploy_args import DeployArguments
from .groups import _help
from .webui_args import WebUIArguments

# `swift deploy` fields a chat page has no use for: it serves a web page, not an API.
_SERVER_ONLY = ('host', 'port', 'owned_by', 'verbose', 'log_interval', 'max_logprobs', 'max_tokens_limit', 'max_n',
                'max_num_beams', 'max_request_bytes')
_NO_SERVER = ('not read by swift app: it is a `swift deploy` server argument and the page listens on '
              '--server_name/--server_port; drop it.')
# Loading the model is the server's business once --base_url is given.
_LOCAL_ONLY = ('adapters', 'ckpt_dir', 'infer_backend', 'merge_lora', 'quant_method', 'torch_dtype', 'device_map',
               'max_batch_size', 'model_type', 'template', 'max_length')


@dataclass
class AppGroup:
    group_title = 'app arguments'
    base_url: Optional[str] = _help('An OpenAI-compatible server to chat with, e.g. http://127.0.0.1:8000/v1; '
                                    'default: load --model in this process.', default=None)
    studio_title: Optional[str] = _help('Page title; default: the model name.', default=None)
    is_multimodal: Optional[bool] = _help('Image uploads in the query box; default: on for a multimodal model (and '
                                          'a --base_url server), off for a text-only one.', default=None)
    lang: Literal['zh', 'en'] = _help("Page language: 'zh' or 'en'.", default='en')


@dataclass
class AppArguments(AppGroup, WebUIArguments, DeployArguments):
    """A Gradio chat page in front of a model or an OpenAI-compatible server."""
    rejected_fields = {name: _NO_SERVER for name in _SERVER_ONLY}

    @classmethod
    def rejections(cls):
        return BaseArguments.rejections.__func__(cls)  # the table, not WebUIArguments' empty one

    def validate(self):
        WebUIArguments.validate(self)
        self.check_rejected()
        if self.base_url:
            if not self.base_url.startswith(('http://', 'https://')):
                raise ArgumentError(f'--base_url {self.base_url}: expected an http(s) URL such as '
                                    'http://127.0.0.1:8000/v1.')
            if self.model is not None:
                raise ArgumentError('--model loads a model in this process; with --base_url pick the server\'s '
                                    'model with --served_model_name (default: the first it lists).')
            self._reject_set(_LOCAL_ONLY, 'loads a model in this process; with --base_url the server does that')
            return
        if self.api_key is not None:
            raise ArgumentError('--api_key is sent to a --base_url server; without --base_url the model runs in '
                                'this process and needs no key.')
        DeployArguments.validate(self)

    def resolve(self):
        if self.base_url:
            self._import_plugins()  # a --base_url page loads nothing else
            return
        super().resolve()

    def title(self, served_name: str) -> str:
        return self.studio_title or served_name

    def _reject_set(self, names, why: str):
        defaults = {f.name: f for f in dataclasses.fields(self)}
        for name in names:
            f = defaults[name]
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if getattr(self, name) != default:
                raise ArgumentError(f'--{name} {why}.')
