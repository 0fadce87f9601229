"""ms-swift 3.x compatible import surface: `from swift.llm import register_model, ModelMeta, ...` keeps
users' registration and plugin files working unchanged."""
from swift.arguments import BaseArguments, PtArguments, SftArguments, TrainArguments
from swift.dataset import (DATASET_MAPPING, AlpacaPreprocessor, AutoPreprocessor, DatasetMeta, MessagesPreprocessor,
                           ResponsePreprocessor, RowPreprocessor, SubsetDataset, load_dataset, register_dataset)
from swift.model import (MODEL_MAPPING, LLMModelType, Model, ModelArch, ModelGroup, ModelInfo, ModelMeta,
                         get_model_tokenizer, get_model_tokenizer_with_flash_attn, register_model)
from swift.pipelines.sft import pt_main, sft_main
from swift.template import TEMPLATE_MAPPING, Template, TemplateMeta, TemplateType, get_template, register_template

TrainArgumentsMixin = TrainArguments
