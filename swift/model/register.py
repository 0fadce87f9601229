"""The model registry: ModelMeta per model_type, ms-swift 3.x names and signatures, strict and typed."""
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import torch

from swift.utils import ModelError, Registry, did_you_mean


@dataclass
class Model:
    ms_model_id: Optional[str] = None
    hf_model_id: Optional[str] = None
    model_path: Optional[str] = None
    ms_revision: Optional[str] = None
    hf_revision: Optional[str] = None

    def ids(self) -> List[str]:
        return [i for i in (self.ms_model_id, self.hf_model_id, self.model_path) if i]


@dataclass
class ModelGroup:
    models: List[Model]
    ignore_patterns: Optional[List[str]] = None
    requires: Optional[List[str]] = None
    tags: List[str] = field(default_factory=list)


@dataclass
class ModelMeta:
    model_type: Optional[str]
    model_groups: List[ModelGroup]
    template: Optional[str]
    get_function: Callable
    model_arch: Any = None  # a ModelArch name, or MultiModelKeys for a multimodal model
    architectures: List[str] = field(default_factory=list)
    additional_saved_files: List[str] = field(default_factory=list)
    torch_dtype: Optional[torch.dtype] = None
    is_multimodal: bool = False
    is_reward: bool = False
    task_type: Optional[str] = None
    ignore_patterns: Optional[List[str]] = None
    requires: List[str] = field(default_factory=list)
    tags: List[str] = field(default_factory=list)

    def get_matched_model_group(self, model_name: str) -> Optional[ModelGroup]:
        suffix = model_suffix(model_name)
        for group in self.model_groups:
            if any(model_suffix(i) == suffix for model in group.models for i in model.ids()):
                return group
        return None


@dataclass
class ModelInfo:
    model_type: str
    model_dir: str
    torch_dtype: torch.dtype
    max_model_len: Optional[int]
    quant_method: Optional[str]
    quant_bits: Optional[int]
    rope_scaling: Optional[Dict[str, Any]] = None
    config: Any = None
    task_type: Optional[str] = None
    num_labels: Optional[int] = None


MODEL_MAPPING: Registry = Registry('model_type')


def register_model(model_meta: ModelMeta, *, exist_ok: bool = False) -> ModelMeta:
    if model_meta.model_type in MODEL_MAPPING and not exist_ok:
        raise ModelError(f'model_type {model_meta.model_type!r} is already registered; '
                         'pick another model_type or pass exist_ok=True to replace it.')
    return MODEL_MAPPING.register(model_meta.model_type, model_meta, exist_ok=True)


def get_model_meta(model_type: str) -> ModelMeta:
    meta = MODEL_MAPPING.find(model_type)
    if meta is None:
        raise ModelError(f'Unknown model_type {model_type!r}.{did_you_mean(model_type, MODEL_MAPPING)} '
                         'Run `swift list models` to see all, or register yours with --custom_register_path.')
    return meta


def model_suffix(model_id_or_path: str) -> str:
    """'Qwen/Qwen2.5-7B-Instruct' and '/data/Qwen2.5-7B-Instruct/' both -> 'qwen2.5-7b-instruct'."""
    return os.path.basename(str(model_id_or_path).rstrip('/\\')).lower()


def get_matched_model_meta(model_id_or_path: str) -> Optional[ModelMeta]:
    """The ModelMeta one of whose registered ids ends like `model_id_or_path` (case-insensitive), or None."""
    suffix = model_suffix(model_id_or_path)
    for meta in MODEL_MAPPING.values():
        if meta.get_matched_model_group(suffix) is not None:
            return meta
    return None


def get_model_types_by_architecture(architecture: str) -> List[str]:
    return [name for name, meta in MODEL_MAPPING.items() if architecture in meta.architectures]


def find_model(model_id: str) -> Optional[Model]:
    """The registered Model whose ms or hf id equals `model_id` (used to map ids across hubs)."""
    for meta in MODEL_MAPPING.values():
        for group in meta.model_groups:
            for model in group.models:
                if model_id in (model.ms_model_id, model.hf_model_id):
                    return model
    return None
