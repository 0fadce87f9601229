from .errors import ArgumentError, DatasetError, ModelError, SwiftError, TemplateError
from .logger import get_logger
from .registry import Registry, closest, did_you_mean
from .tokens import pad_token_id
from .network import hub_endpoint, hub_name, hub_reachable
from .adapters import parse_adapters
from .paths import get_cache_dir
