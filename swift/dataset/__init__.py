"""Datasets: registry (DatasetMeta), `--dataset` syntax, loading and preprocessing to canonical rows, encoding."""
from .builtin import SELF_COGNITION_ID, SelfCognitionPreprocessor, register_builtin_datasets
from .dataset_info import register_dataset_info
from .encode import EncodeStats, LazyEncodedDataset, encode_dataset
from .loader import load_dataset, sample_dataset, split_dataset
from .meta import DATASET_MAPPING, DatasetMeta, SubsetDataset, get_dataset_meta, register_dataset
from .preprocess import (AlpacaPreprocessor, AutoPreprocessor, MessagesPreprocessor, ResponsePreprocessor,
                         RowPreprocessor, TextPreprocessor)
from .report import DropReport, RowError
from .syntax import DatasetSyntax

register_builtin_datasets()

from swift.plugin.loader import REGISTRY_VIEWS  # noqa: E402  (so user files are diffed against this registry)
REGISTRY_VIEWS['datasets'] = DATASET_MAPPING.keys
