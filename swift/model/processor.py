"""Loading the transformers processor of a vision-language model.

transformers 5.x builds Qwen2VLProcessor only when torchvision is importable (its video processor is a
torchvision class, and ProcessorMixin checks every sub-processor's class). Our CPU stack has no torchvision (the
PyPI wheels are CUDA builds whose ops do not load on torch+cpu), so without it we build the same processor minus
its video processor: images are processed by the PIL image processor, the placeholder expansion and chat
template are the library's; videos then need torchvision (one line says so).
"""
import importlib.util
from typing import Optional

from swift.utils import ModelError


def has_video_backend() -> bool:
    return importlib.util.find_spec('torchvision') is not None


def image_only_processor_class(base):
    """`base` (a ProcessorMixin subclass) whose sub-processors are only the image processor and the tokenizer."""

    class ImageOnlyProcessor(base):

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            super().__init__(image_processor, tokenizer, None, chat_template=chat_template, **kwargs)

        def to_dict(self):
            # Saved as the library's class, so AutoProcessor loads the directory where torchvision exists.
            out = super().to_dict()
            out['processor_class'] = base.__name__
            return out

    ImageOnlyProcessor.__name__ = ImageOnlyProcessor.__qualname__ = f'ImageOnly{base.__name__}'
    return ImageOnlyProcessor


def build_processor(processor_cls, image_processor, tokenizer, chat_template: Optional[str] = None):
    """An image-only `processor_cls` (saved under the library's class name)."""
    return image_only_processor_class(processor_cls)(image_processor=image_processor, tokenizer=tokenizer,
                                                     chat_template=chat_template)


def load_processor(model_dir: str, tokenizer, processor_cls):
    """The model's processor from `model_dir` (AutoProcessor with torchvision, else the image-only variant)."""
    from transformers import AutoImageProcessor, AutoProcessor
    if has_video_backend():
        return AutoProcessor.from_pretrained(model_dir, trust_remote_code=True)
    try:
        image_processor = AutoImageProcessor.from_pretrained(model_dir, trust_remote_code=True)
    except (OSError, ValueError) as e:
        raise ModelError(f'Cannot load the image processor of {model_dir!r} ({e}); the directory needs a '
                         'preprocessor_config.json.') from None
    return build_processor(processor_cls, image_processor, tokenizer, tokenizer.chat_template)
