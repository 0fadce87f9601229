"""Arguments of `swift export` / `swift merge-lora`: base arguments + merge group + export group."""
import os
from dataclasses import dataclass
from typing import Literal, Optional

from swift.utils import ArgumentError
from .base_args import BaseArguments
from .groups import MergeArguments, _help

EXPORT_QUANT_METHODS = ('gptq', 'awq', 'bnb')
# Types `gguf.quants.quantize` can write (numpy; K-quants have no writer there).
GGUF_QUANT_TYPES = ('f32', 'f16', 'bf16', 'q8_0', 'q5_1', 'q5_0', 'q4_1', 'q4_0')


@dataclass
class ExportGroup:
    group_title = 'export arguments'
    output_dir: Optional[str] = _help('Where to write; default: the source directory plus a suffix '
                                      '(-merged, -<method>-int<bits>, -gguf, -ollama).', default=None)
    exist_ok: bool = _help('Write into an existing --output_dir (overwriting files) instead of failing.',
                           default=False)
    quant_method: Optional[Literal[EXPORT_QUANT_METHODS]] = _help(
        'Quantize and save: gptq (gptqmodel/auto-gptq), awq (autoawq), bnb (bitsandbytes).', default=None)
    quant_n_samples: int = _help('gptq/awq calibration samples taken from --dataset.', default=256)
    max_length: Optional[int] = _help('Max tokens per calibration sample.', default=2048)
    quant_batch_size: int = _help('Calibration batch size.', default=1)
    group_size: int = _help('gptq/awq quantization group size.', default=128)
    to_gguf: bool = _help('Write a GGUF file (llama.cpp, Ollama) of the (merged) model.', default=False)
    gguf_quant_type: Literal[GGUF_QUANT_TYPES] = _help('GGUF weight type: ' + ', '.join(GGUF_QUANT_TYPES) + '.',
                                                       default='f16')
    to_ollama: bool = _help('Write an Ollama Modelfile (template, system, stop words).', default=False)
    push_to_hub: bool = _help('Push the result (or the --adapters/--model dir) to ModelScope, or Hugging Face '
                              'with --use_hf true.', default=False)
    hub_model_id: Optional[str] = _help('Repository to push to, e.g. owner/name.', default=None)
    hub_private_repo: bool = _help('Create the repository as private.', default=False)
    commit_message: str = _help('Commit message of the push.', default='update files')
    to_cached_dataset: bool = _help('Encode --dataset with the template and save it (train/ and val/ arrow '
                                    'splits plus manifest.json) for `swift sft/pt/rlhf --cached_dataset`.',
                                    default=False)
    template_mode: Literal['train', 'rlhf', 'kto'] = _help(
        "With --to_cached_dataset: 'train' (sft/pt rows), 'rlhf' (preference pairs for dpo, cpo, simpo, orpo, rm) "
        "or 'kto'.", default='train')
    # LLaMA-Factory names, mapped onto ours in __post_init__.
    export_size: Optional[int] = _help('LLaMA-Factory: shard size in GB (sets --max_shard_size).', default=None)
    export_device: Optional[Literal['cpu', 'auto']] = _help('LLaMA-Factory: device to merge on (sets --device_map).',
                                                            default=None)
    export_legacy_format: Optional[bool] = _help('LLaMA-Factory: save .bin instead of safetensors '
                                                 '(refused: transformers 5 writes safetensors only).', default=None)


_NO_GENERATION = 'not read: swift export generates no text; drop it.'


@dataclass
class ExportArguments(ExportGroup, MergeArguments, BaseArguments):
    """Arguments of `swift export`: merge adapters, quantize, write GGUF / an Ollama Modelfile, push to a hub."""
    rejected_fields = {
        'tuner_backend': 'not read by swift export: adapters merge with peft whatever backend trained them; drop it.',
        **{name: _NO_GENERATION for name in ('max_new_tokens', 'temperature', 'top_k', 'top_p', 'repetition_penalty',
                                             'num_beams', 'stream', 'stop_words', 'logprobs', 'top_logprobs')},
        'safe_serialization': 'not supported: transformers 5 saves safetensors only (also --export_legacy_format '
                              'true); drop the flag.',
    }

    def __post_init__(self):
        BaseArguments.__post_init__(self)
        if self.export_size is not None:
            self.max_shard_size = f'{self.export_size}GB'
        if self.export_device is not None:
            self.device_map = self.export_device
        if self.export_legacy_format is not None:
            self.safe_serialization = not self.export_legacy_format

    def validate(self):
        super().validate()  # includes: --quant_method needs --quant_bits; bnb takes 4 or 8
        if self.quant_method == 'gptq' and self.quant_bits not in (2, 3, 4, 8):
            raise ArgumentError(f'--quant_method gptq supports --quant_bits 2, 3, 4 or 8, got {self.quant_bits}.')
        if self.quant_method == 'awq' and self.quant_bits != 4:
            raise ArgumentError(f'--quant_method awq supports --quant_bits 4, got {self.quant_bits}.')
        if self.quant_method in ('gptq', 'awq') and not self.dataset:
            raise ArgumentError(f'--quant_method {self.quant_method} calibrates on data: pass --dataset.')
        if self.merge_lora and not self.adapters:
            raise ArgumentError('--merge_lora true needs --adapters <checkpoint dir> (the adapter to merge).')
        if self.push_to_hub and not self.hub_model_id:
            raise ArgumentError('--push_to_hub true needs --hub_model_id owner/name.')
        self._validate_cached_dataset()
        if not (self.merge_lora or self.quant_method or self.to_gguf or self.to_ollama or self.push_to_hub
                or self.to_cached_dataset):
            raise ArgumentError('Nothing to export: pass --merge_lora true, --quant_method, --to_gguf true, '
                                '--to_ollama true, --push_to_hub true or --to_cached_dataset true.')
        for name in ('quant_n_samples', 'quant_batch_size', 'group_size'):
            if getattr(self, name) < 1:
                raise ArgumentError(f'--{name} must be >= 1, got {getattr(self, name)}.')

    def _validate_cached_dataset(self):
        if not self.to_cached_dataset:
            if self.template_mode != 'train':
                raise ArgumentError(f'--template_mode {self.template_mode} is read by --to_cached_dataset true only; '
                                    'add that flag or drop this one.')
            return
        if not self.dataset:
            raise ArgumentError('--to_cached_dataset true encodes --dataset: pass --dataset <id or path>.')
        others = [f'--{n}' for n in ('merge_lora', 'quant_method', 'to_gguf', 'to_ollama', 'push_to_hub')
                  if getattr(self, n)]
        if others:
            raise ArgumentError(f'--to_cached_dataset true writes a dataset, {others[0]} a model: run them as two '
                                'exports.')
        if self.streaming:
            raise ArgumentError('--to_cached_dataset true saves the whole encoded dataset: drop --streaming true.')

    def resolve(self):
        # A QLoRA checkpoint's args.json holds its load-time quantization; here quant_* name the export target.
        target = (self.quant_method, self.quant_bits)
        super().resolve()
        self.quant_method, self.quant_bits = target
        if self.template_mode != 'train' and self.loss_scale == 'default':
            self.loss_scale = 'last_round'  # swift rlhf's default, so its runs match the cache

    @property
    def source_dir(self) -> str:
        """The checkpoint the export starts from (first adapter, else the model)."""
        return self.adapters[0] if self.adapters else self.model

    def default_output_dir(self) -> str:
        if self.to_cached_dataset:
            suffix = 'cached_dataset'
        elif self.quant_method:
            suffix = f'{self.quant_method}-int{self.quant_bits}'
        elif self.merge_lora:
            suffix = 'merged'
        else:
            suffix = 'gguf' if self.to_gguf else 'ollama'
        source = self.source_dir
        if not os.path.isdir(source):  # a hub id: write next to the working directory
            source = source.rstrip('/').split('/')[-1]
        return f'{os.path.normpath(source)}-{suffix}'
