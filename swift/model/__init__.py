"""Model registry (ms-swift 3.x compatible names) and the built-in tiny offline models."""
from . import families  # registers the built-in model types
from .constant import LLMModelType, MLLMModelArch, MLLMModelType, ModelArch, ModelType, MultiModelKeys
from .get_model import get_model_info_meta, get_model_tokenizer
from .hub import check_model_files, download_model, resolve_model_dir
from .loader import get_model_tokenizer_from_local, get_model_tokenizer_with_flash_attn
from .quant import get_quantization_config, to_torch_dtype
from .register import (MODEL_MAPPING, Model, ModelGroup, ModelInfo, ModelMeta, get_matched_model_meta, get_model_meta,
                       register_model)
from .tiny import TINY_CONFIG, TINY_MODELS, get_tiny_model_dir, load_tiny_tokenizer, make_model_dir

from swift.plugin.loader import REGISTRY_VIEWS  # noqa: E402  (so user files are diffed against this registry)
REGISTRY_VIEWS['models'] = MODEL_MAPPING.keys
