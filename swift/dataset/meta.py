"""DatasetMeta, SubsetDataset and the dataset registry (ms-swift 3.x names)."""
import os
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Union

from swift.utils import Registry, get_logger

from .preprocess import AutoPreprocessor, RowPreprocessor

PreprocessFunc = Union[RowPreprocessor, Callable]


@dataclass
class SubsetDataset:
    name: Optional[str] = None  # the name used on the command line; defaults to `subset`
    subset: str = 'default'  # the hub's subset (config) name
    split: Optional[List[str]] = None  # None: the DatasetMeta's split
    preprocess_func: Optional[PreprocessFunc] = None  # None: the DatasetMeta's preprocess_func
    is_weak_subset: bool = False  # weak subsets are not selected by ':all'

    def __post_init__(self):
        if self.name is None:
            self.name = self.subset


@dataclass
class DatasetMeta:
    ms_dataset_id: Optional[str] = None
    hf_dataset_id: Optional[str] = None
    dataset_path: Optional[str] = None
    dataset_name: Optional[str] = None
    ms_revision: Optional[str] = None
    hf_revision: Optional[str] = None
    subsets: List[Union[SubsetDataset, str]] = field(default_factory=lambda: ['default'])
    split: List[str] = field(default_factory=lambda: ['train'])
    preprocess_func: PreprocessFunc = field(default_factory=AutoPreprocessor)
    tags: List[str] = field(default_factory=list)
    help: Optional[str] = None
    huge_dataset: bool = False

    def __post_init__(self):
        if not (self.ms_dataset_id or self.hf_dataset_id or self.dataset_path):
            raise ValueError('DatasetMeta needs ms_dataset_id, hf_dataset_id or dataset_path.')
        self.subsets = [s if isinstance(s, SubsetDataset) else SubsetDataset(subset=s) for s in self.subsets]

    @property
    def keys(self) -> List[str]:
        """The names it is registered and looked up under."""
        names = (self.ms_dataset_id, self.hf_dataset_id, self.dataset_path, self.dataset_name)
        return list(dict.fromkeys(n for n in names if n))

    @property
    def name(self) -> str:
        return self.keys[0]

    def subset(self, name: str) -> Optional[SubsetDataset]:
        return next((s for s in self.subsets if s.name == name), None)


DATASET_MAPPING: Registry[DatasetMeta] = Registry('dataset')


def register_dataset(dataset_meta: DatasetMeta, *, exist_ok: bool = False) -> DatasetMeta:
    keys = dataset_meta.keys
    if not exist_ok:
        for key in keys:  # check every key first so a duplicate leaves the registry unchanged
            if key in DATASET_MAPPING:
                raise ValueError(f'dataset {key!r} is already registered; pass exist_ok=True to replace it.')
    for key in keys:
        DATASET_MAPPING.register(key, dataset_meta, exist_ok=True)
    get_logger().debug(f'registered dataset {dataset_meta.name}')
    return dataset_meta


def get_dataset_meta(name: str) -> Optional[DatasetMeta]:
    """The registered meta for an id/name/path (paths compared in absolute form)."""
    meta = DATASET_MAPPING.find(name)
    if meta is None and os.path.exists(name):
        meta = DATASET_MAPPING.find(os.path.abspath(name))
    return meta
