"""Built-in datasets that ship with the package (no network)."""
import copy
import os
from typing import List, Optional, Sequence, Union

from swift.utils import DatasetError, get_logger

from .meta import DatasetMeta, register_dataset
from .preprocess import ResponsePreprocessor, Row
from .shapes import SHAPES_VQA_ID, ShapesVqaPreprocessor

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')
SELF_COGNITION_ID = 'swift/self-cognition'
NameArg = Optional[Union[str, Sequence[str]]]


def _zh_en(value: NameArg) -> Optional[List[str]]:
    """`--model_name 小黄 'Xiao Huang'` -> [zh, en]; a single name serves both languages."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    if not 1 <= len(names) <= 2 or not all(isinstance(n, str) and n for n in names):
        raise DatasetError(f'--model_name/--model_author take one or two names (Chinese, English), got {value!r}.')
    return names if len(names) == 2 else names * 2


class SelfCognitionPreprocessor(ResponsePreprocessor):
    """query/response/tag rows; {{NAME}} and {{AUTHOR}} are replaced in the row's language (tag zh|en)."""

    def __init__(self, *, name: NameArg = None, author: NameArg = None, **kwargs):
        super().__init__(**kwargs)
        self.name, self.author = _zh_en(name), _zh_en(author)

    def with_name_author(self, name: NameArg, author: NameArg) -> 'SelfCognitionPreprocessor':
        if name is None or author is None:
            # ms-swift keeps the placeholders in that case; say so instead of failing a dry run.
            get_logger().warning(f'{SELF_COGNITION_ID}: without --model_name/--model_author the rows keep their '
                                 "{{NAME}}/{{AUTHOR}} placeholders; pass e.g. --model_name 小黄 'Xiao Huang' "
                                 '--model_author 魔搭 ModelScope.')
        other = copy.copy(self)
        other.name, other.author = _zh_en(name), _zh_en(author)
        return other

    def preprocess(self, row: Row) -> Row:
        lang = 1 if row.pop('tag', 'zh') == 'en' else 0
        for key in ('query', 'response'):
            for placeholder, names in (('{{NAME}}', self.name), ('{{AUTHOR}}', self.author)):
                if names is not None and isinstance(row.get(key), str):
                    row[key] = row[key].replace(placeholder, names[lang])
        return super().preprocess(row)


def register_builtin_datasets() -> None:
    register_dataset(DatasetMeta(
        ms_dataset_id=SELF_COGNITION_ID, hf_dataset_id=SELF_COGNITION_ID,
        dataset_path=os.path.join(DATA_DIR, 'self_cognition.jsonl'),
        preprocess_func=SelfCognitionPreprocessor(), tags=['chat', 'self-cognition', '🔥'],
        help='Who-are-you questions in Chinese and English; set the names with --model_name and --model_author.'),
        exist_ok=True)
    register_dataset(DatasetMeta(
        ms_dataset_id=SHAPES_VQA_ID, hf_dataset_id=SHAPES_VQA_ID,
        dataset_path=os.path.join(DATA_DIR, 'shapes_vqa.jsonl'), preprocess_func=ShapesVqaPreprocessor(),
        tags=['multimodal', 'vqa', 'offline'],
        help='72 questions about drawn shapes (4 shapes x 6 colours x shape/colour/caption), 56x56 images.'),
        exist_ok=True)
