"""ms-swift 3.x compatible import surface: `from swift.llm import register_model, ModelMeta, ...` keeps
users' registration and plugin files working unchanged."""
from swift.arguments import BaseArguments, PtArguments, SftArguments, TrainArguments
from swift.dataset import (DATASET_MAPPING, AlpacaPreprocessor, AutoPreprocessor, DatasetMeta, MessagesPreprocessor,
                           ResponsePreprocessor, RowPreprocessor, SubsetDataset, load_dataset, register_dataset)
from swift.model import (MODEL_MAPPING, LLMModelType, Model, ModelArch, ModelGroup, ModelInfo, ModelMeta,
                         get_model_tokenizer, get_model_tokenizer_with_flash_attn, register_model)
from swift.infer import InferEngine, InferRequest, PtEngine, RequestConfig
from swift.pipelines.sft import pt_main, sft_main
from swift.template import TEMPLATE_MAPPING, Template, TemplateMeta, TemplateType, get_template, register_template

TrainArgumentsMixin = TrainArguments


def to_device(inputs, device):
    """ms-swift's helper: every tensor inside nested dicts / lists / tuples moved to `device`."""
    if hasattr(inputs, 'to') and callable(inputs.to):
        return inputs.to(device)
    if isinstance(inputs, dict):
        return {k: to_device(v, device) for k, v in inputs.items()}
    if isinstance(inputs, (list, tuple)):
        return type(inputs)(to_device(v, device) for v in inputs)
    return inputs
