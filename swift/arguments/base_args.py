"""BaseArguments: the base group plus the model, data, template, generation and quantization groups."""
import json
import os
from dataclasses import dataclass, fields
from typing import Any, Dict, List, Literal, Optional, Union

from swift.utils import ArgumentError, did_you_mean, get_logger
from swift.version import __version__
from .groups import (DataArguments, GenerationArguments, ModelArguments, QuantizeArguments, TemplateArguments,
                     _help, _list)

logger = get_logger()
TRAIN_TYPES = ('lora', 'full', 'longlora', 'adalora', 'llamapro', 'adapter', 'vera', 'boft', 'fourierft', 'reft')
ARGS_FILE = 'args.json'
# Base arguments read back from a checkpoint's args.json when `load_args` (data/generation args excluded).
_LOADABLE_GROUPS = (ModelArguments, TemplateArguments, QuantizeArguments)
_LOADABLE_BASE = ('train_type', 'tuner_backend', 'model_kwargs', 'custom_register_path', 'external_plugins')


@dataclass
class BaseGroup:
    group_title = 'base arguments'
    tuner_backend: Literal['peft', 'unsloth'] = _help("Tuner implementation: 'peft' (unsloth needs a GPU).",
                                                      default='peft')
    train_type: str = _help('Tuner: ' + ', '.join(TRAIN_TYPES) + ', or a tuner registered by --external_plugins '
                            '(alias --tuner_type).', default='lora')
    adapters: List[str] = _list('Adapter ids or paths to load (and, in training, to keep training).')
    seed: int = _help('Random seed.', default=42)
    model_kwargs: Optional[Union[dict, str]] = _help('Extra model-specific arguments as JSON.', default=None)
    load_args: bool = _help('Read args.json from --adapters/--model/--resume_from_checkpoint dirs and fill '
                            'unset base arguments from it (default: true for infer/export, false for training).',
                            default=True)
    load_data_args: bool = _help('Also read the data arguments from args.json.', default=False)
    use_hf: bool = _help('Use Hugging Face instead of ModelScope for hub downloads and pushes.', default=False)
    hub_token: Optional[str] = _help('Hub access token.', default=None)
    custom_register_path: List[str] = _list('Python files that register models, templates or datasets.')
    external_plugins: List[str] = _list('Python files that register plugins (rewards, losses, metrics, ...).')


_TRAINING_CACHE = ('applies to training only: swift sft/pt/rlhf keep the encoded-dataset cache (docs/datasets.md); '
                   'drop it.')
_NO_MULTIMODAL = 'not supported: grounding boxes are not handled in this version (images and videos are); drop it.'


@dataclass
class BaseArguments(GenerationArguments, QuantizeArguments, DataArguments, TemplateArguments, ModelArguments,
                    BaseGroup):
    """Arguments shared by every command."""
    # Declared (ms-swift names parse) but not read by the command: a non-default value is an ArgumentError with
    # this reason. Subclasses extend the table; mapping a name to None takes it out again (the command reads it).
    rejected_fields = {
        'local_repo_path': 'not supported: no registered model loads code from a GitHub checkout in this '
                           'version; drop it.',
        'sequence_parallel_size': 'applies to training only (swift sft/pt/rlhf, GPUs); drop it.',
        'norm_bbox': _NO_MULTIMODAL,
        'enable_cache': _TRAINING_CACHE,
        'load_from_cache_file': _TRAINING_CACHE,
        'remove_unused_columns': 'not supported: extra dataset columns never reach the loss in this version (the '
                                 'template keeps only model inputs; GRPO reward functions get them anyway); '
                                 'drop it.',
    }

    @classmethod
    def rejections(cls) -> Dict[str, str]:
        """Field name -> why it is refused when set, merged over the class hierarchy."""
        table: Dict[str, Optional[str]] = {}
        for klass in reversed(cls.__mro__):
            table.update(vars(klass).get('rejected_fields', {}))
        return {name: why for name, why in table.items() if why}

    def check_rejected(self):
        defaults = {f.name: _default_of(f) for f in fields(self)}
        for name, why in self.rejections().items():
            value = getattr(self, name)
            if value != defaults[name]:
                shown = ' '.join(map(_cli_value, value)) if isinstance(value, list) else _cli_value(value)
                raise ArgumentError(f'--{name} {shown}: {why}')

    def __post_init__(self):
        # Pure normalisation only: no I/O here (see resolve()).
        if isinstance(self.model_kwargs, str):
            self.model_kwargs = _json_arg('model_kwargs', self.model_kwargs)
        if self.num_labels is not None and self.task_type is None:
            self.task_type = 'seq_cls'
        if self.attn_impl == 'flash_attention_2':  # transformers' name of ms-swift's flash_attn
            self.attn_impl = 'flash_attn'

    def validate(self):
        self.check_rejected()
        for group in (ModelArguments, DataArguments, TemplateArguments, GenerationArguments, QuantizeArguments):
            group.validate(self)

    def resolve(self):
        """Dependent defaults that need files or registries; call once before building anything."""
        self._import_plugins()
        if self.load_args:
            self._load_args_json()
            self._import_plugins()  # the checkpoint's plugin files (already imported ones are skipped)
        self._check_train_type()
        self._check_agent_names()
        if self.new_special_tokens:  # .txt files and comma lists -> the token list args.json records
            from swift.model.new_tokens import read_new_tokens
            self.new_special_tokens = read_new_tokens(self.new_special_tokens)
        if self.model is None:
            raise ArgumentError('--model is required (a model id, a local path, or swift/tiny-qwen2); '
                                'with --adapters it is read from the adapter\'s args.json.')

    def _check_train_type(self):
        from swift.plugin import tuners
        if self.train_type not in TRAIN_TYPES and self.train_type not in tuners:
            known = list(TRAIN_TYPES) + list(tuners.keys())
            raise ArgumentError(f'--train_type {self.train_type}: unknown tuner.{did_you_mean(self.train_type, known)}'
                                f' Known: {", ".join(known)} (register your own with --external_plugins).')

    def _check_agent_names(self):
        """--tools_prompt / --loss_scale name registered formats (plugins included), checked before any weights."""
        from swift.template import LOSS_SCALE_MAPPING, TOOLS_PROMPT_MAPPING
        for flag, value, registry in (('tools_prompt', self.tools_prompt, TOOLS_PROMPT_MAPPING),
                                      ('loss_scale', self.loss_scale, LOSS_SCALE_MAPPING)):
            if value is not None and value not in registry:
                known = list(registry)
                raise ArgumentError(f'--{flag} {value}: unknown.{did_you_mean(value, known)} Known: {", ".join(known)}'
                                    ' (register your own with --external_plugins).')

    def _import_plugins(self):
        import swift.dataset  # noqa: F401  the registries user files extend, diffed by the loader
        import swift.model  # noqa: F401
        import swift.template  # noqa: F401
        from swift.plugin.loader import import_plugin_files
        import_plugin_files(self.custom_register_path, 'custom_register_path')
        import_plugin_files(self.external_plugins, 'external_plugins')
        if self.custom_dataset_info:
            from swift.dataset import register_dataset_info
            for path in self.custom_dataset_info:
                register_dataset_info(path)

    def _args_json_dir(self) -> Optional[str]:
        candidates = list(self.adapters) + [getattr(self, 'resume_from_checkpoint', None), self.model]
        for path in candidates:
            if path and os.path.isfile(os.path.join(path, ARGS_FILE)):
                return path
        return None

    def _load_args_json(self):
        ckpt_dir = self._args_json_dir()
        if ckpt_dir is None:
            return
        saved = read_args_json(ckpt_dir)
        keys = [f.name for g in _LOADABLE_GROUPS for f in fields(g)] + list(_LOADABLE_BASE)
        if self.load_data_args:
            keys += [f.name for f in fields(DataArguments)]
        if ckpt_dir == self.model:
            keys.remove('model')  # a full checkpoint is itself the model
        loaded = {}
        for key in keys:
            if key in saved and _is_unset(getattr(self, key, None)):
                setattr(self, key, saved[key])
                loaded[key] = saved[key]
        # A plugin tuner's checkpoints load through the plugin's from_pretrained (ms-swift's extra_tuners), so its
        # name replaces the default train_type; built-in adapters describe themselves in adapter_config.json.
        saved_type = saved.get('train_type')
        if saved_type and saved_type not in TRAIN_TYPES and self.train_type == BaseGroup.train_type:
            self.train_type = loaded['train_type'] = saved_type
        if loaded:
            logger.info(f'Loaded from {os.path.join(ckpt_dir, ARGS_FILE)}: {", ".join(sorted(loaded))}')

    def to_dict(self) -> Dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    def save_args(self, output_dir: str, extra: Optional[Dict[str, Any]] = None) -> str:
        os.makedirs(output_dir, exist_ok=True)
        data = _jsonable(self.to_dict())
        data['swift_version'] = __version__
        data.update(extra or {})
        path = os.path.join(output_dir, ARGS_FILE)
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
        return path


def read_args_json(ckpt_dir: str) -> Dict[str, Any]:
    path = os.path.join(ckpt_dir, ARGS_FILE)
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ArgumentError(f'{path} is not valid JSON ({e}); fix or delete it.') from None


def _cli_value(value) -> str:
    return str(value).lower() if isinstance(value, bool) or value is None else str(value)


def _default_of(f):
    return f.default_factory() if callable(f.default_factory) else f.default


def _is_unset(value) -> bool:
    return value is None or value == []


def _json_arg(name: str, text: str):
    if os.path.isfile(text):
        with open(text, encoding='utf-8') as f:
            text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ArgumentError(f'--{name} must be JSON (or a JSON file path): {e}') from None


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, 'value') and isinstance(value.value, (str, int)):  # enums
        return value.value
    return str(value)
