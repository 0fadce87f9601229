"""`swift deploy` arguments: the inference arguments plus the server's (002 "部署参数")."""
import os
from dataclasses import dataclass, fields
from typing import Optional

from swift.utils import ArgumentError
from .groups import DataArguments, _help
from .infer_args import InferArguments


@dataclass
class DeployGroup:
    group_title = 'deployment arguments'
    host: str = _help('Address to bind; 0.0.0.0 listens on every interface (use 127.0.0.1 for local only).',
                      default='0.0.0.0')
    port: int = _help('Port to listen on.', default=8000)
    api_key: Optional[str] = _help('Clients must send `Authorization: Bearer <api_key>`; default: no key.',
                                   default=None)
    owned_by: str = _help('`owned_by` of the models listed by GET /v1/models.', default='swift')
    served_model_name: Optional[str] = _help('Model name clients send; default: the last part of --model.',
                                             default=None)
    verbose: bool = _help('Log every request (model, stream, max_tokens, n).', default=True)
    log_interval: float = _help('Seconds between throughput log lines (tokens/s); -1 disables.', default=20)
    max_logprobs: int = _help('Most top_logprobs a client may ask for.', default=20)

    def validate(self):
        if not 0 < self.port < 65536:
            raise ArgumentError(f'--port must be in 1..65535, got {self.port}.')
        if self.max_logprobs < 0:
            raise ArgumentError(f'--max_logprobs must be >= 0, got {self.max_logprobs}.')
        if self.log_interval == 0 or (self.log_interval < 0 and self.log_interval != -1):
            raise ArgumentError(f'--log_interval must be positive seconds or -1 (off), got {self.log_interval}.')


_NO_DATASET = ('not read by swift deploy, which serves requests and reads no dataset (offline inference over a '
               'dataset: `swift infer --val_dataset ...`); drop it.')


@dataclass
class DeployArguments(DeployGroup, InferArguments):
    """Serve a model behind an OpenAI-compatible HTTP API."""
    # ms-swift documents deploy as inheriting the infer arguments, so the data flags parse and are refused.
    # (--custom_dataset_info is still read: resolve() registers the datasets it describes.)
    rejected_fields = {name: _NO_DATASET for name in (
        [f.name for f in fields(DataArguments) if f.name != 'custom_dataset_info']
        + ['result_path', 'metric', 'val_dataset_sample'])}

    def validate(self):
        InferArguments.validate(self)
        DeployGroup.validate(self)

    def resolve(self):
        super().resolve()
        if self.served_model_name is None:
            self.served_model_name = os.path.basename(os.path.normpath(self.model))
