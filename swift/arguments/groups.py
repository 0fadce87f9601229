"""Atomic argument groups shared by every command (names and defaults follow ms-swift 3.x, see docs/arguments.md).

Each group only declares fields and checks them in `validate()`; nothing here does I/O.
"""
from dataclasses import dataclass, field
from typing import List, Literal, Optional, Union

from swift.utils import ArgumentError


def _help(text: str, **kw):
    return field(metadata={'help': text}, **kw)


def _list(text: str):
    return field(default_factory=list, metadata={'help': text})


@dataclass
class ModelArguments:
    group_title = 'model arguments'
    model: Optional[str] = _help('Model id (ModelScope by default, Hugging Face with --use_hf), local path, '
                                 'or swift/tiny-qwen2 / swift/tiny-llama.', default=None)
    model_type: Optional[str] = _help('Registered model type; default: chosen from the model id suffix or '
                                      'config.json architectures.', default=None)
    model_revision: Optional[str] = _help('Hub revision of the model.', default=None)
    task_type: Optional[Literal['causal_lm', 'seq_cls']] = _help(
        "'causal_lm' or 'seq_cls' (set automatically when --num_labels is given).", default=None)
    torch_dtype: Optional[Literal['float16', 'bfloat16', 'float32']] = _help(
        'Weight dtype; default: from config.json (fp32 is recommended on CPU).', default=None)
    attn_impl: Optional[Literal['flash_attn', 'flash_attention_2', 'sdpa', 'eager', 'flex_attention']] = _help(
        'Attention implementation; default sdpa, eager where unsupported (flash_attention_2 = flash_attn).',
        default=None)
    num_labels: Optional[int] = _help('Number of labels of a sequence classification model.', default=None)
    rope_scaling: Optional[Union[dict, str]] = _help(
        "RoPE scaling: 'linear', 'dynamic' or a JSON dict; use together with --max_length.", default=None)
    device_map: Optional[Union[dict, str]] = _help("'auto', 'cpu', a JSON dict or a JSON file path.", default=None)
    max_memory: Optional[Union[dict, str]] = _help(
        'Per-device memory for device_map auto, e.g. \'{"0": "20GB"}\'.', default=None)
    local_repo_path: Optional[str] = _help('Local copy of a github repo some models need (none here: refused).',
                                           default=None)
    new_special_tokens: List[str] = _list('Special tokens to add to the tokenizer (the embeddings grow to fit): '
                                          'tokens, comma lists, or .txt files with one token a line. Training saves '
                                          'them in args.json, so infer/export rebuild the vocabulary.')

    def validate(self):
        if self.num_labels is not None and self.num_labels < 1:
            raise ArgumentError(f'--num_labels must be >= 1, got {self.num_labels}.')
        if self.task_type == 'seq_cls' and self.num_labels is None:
            raise ArgumentError('--task_type seq_cls needs --num_labels.')


@dataclass
class DataArguments:
    group_title = 'data arguments'
    dataset: List[str] = _list('Dataset ids or paths: `id_or_path[:subset1/subset2|all][#N]`, space separated.')
    val_dataset: List[str] = _list('Validation dataset ids or paths, same syntax as --dataset.')
    split_dataset_ratio: float = _help('Fraction of --dataset held out for validation when --val_dataset is '
                                       'not given; 0 disables.', default=0.01)
    data_seed: int = _help('Seed for dataset sampling, shuffling and splitting.', default=42)
    dataset_num_proc: int = _help('Processes for dataset preprocessing.', default=1)
    streaming: bool = _help('Read and process datasets as a stream (needs --max_steps for training).', default=False)
    interleave_prob: List[float] = _list('ms-swift: mix the --dataset entries with datasets.interleave_datasets, '
                                         'drawing rows from each with these probabilities (one per entry, sum 1); '
                                         'default: concatenate them. Not applied to --val_dataset.')
    stopping_strategy: Literal['first_exhausted', 'all_exhausted'] = _help(
        'With --interleave_prob: stop when the first entry runs out (first_exhausted) or when every entry has been '
        'seen once, repeating the shorter ones (all_exhausted).', default='first_exhausted')
    mix_strategy: Literal['concat', 'interleave_under', 'interleave_over'] = _help(
        'LLaMA-Factory: concat, interleave_under (= first_exhausted) or interleave_over (= all_exhausted).',
        default='concat')
    interleave_probs: Optional[str] = _help('LLaMA-Factory: comma-separated probabilities of the interleave '
                                            'strategies, e.g. 0.7,0.3; default: alternate the entries.',
                                            default=None)
    enable_cache: bool = _help('Training: keep encoded datasets in $SWIFT_CACHE/encoded, keyed by data, template, '
                               'tokenizer and max_length (a changed input is a miss).', default=False)
    load_from_cache_file: bool = _help('ms-swift >= 3.5 name of --enable_cache (training).', default=False)
    download_mode: Literal['reuse_dataset_if_exists', 'force_redownload'] = _help(
        'Dataset download mode.', default='reuse_dataset_if_exists')
    columns: Optional[Union[dict, str]] = _help(
        'JSON mapping of source columns to standard ones, e.g. \'{"text1": "query", "text2": "response"}\'.',
        default=None)
    strict: bool = _help('Fail on the first malformed dataset row (file and line named) instead of skipping it.',
                         default=False)
    remove_unused_columns: bool = _help('Drop dataset columns the model does not use (always; false is refused).',
                                        default=True)
    model_name: List[str] = _list("Self-cognition model name: Chinese then English, e.g. 小黄 'Xiao Huang'.")
    model_author: List[str] = _list("Self-cognition author: Chinese then English, e.g. 魔搭 ModelScope.")
    custom_dataset_info: List[str] = _list('JSON files registering custom datasets.')

    def validate(self):
        if not 0 <= self.split_dataset_ratio < 1:
            raise ArgumentError(f'--split_dataset_ratio must be in [0, 1), got {self.split_dataset_ratio}.')
        for name in ('model_name', 'model_author'):
            value = getattr(self, name)
            if value and len(value) > 2:
                raise ArgumentError(f'--{name} takes a Chinese and an English name (quote names with spaces), '
                                    f'got {len(value)} values: {value}.')
        if self.dataset_num_proc < 1:
            raise ArgumentError('--dataset_num_proc must be >= 1.')
        self._validate_mixing()

    def _validate_mixing(self):
        if self.interleave_prob and self.mix_strategy != 'concat':
            raise ArgumentError('--interleave_prob (ms-swift) and --mix_strategy (LLaMA-Factory) both choose the mix: '
                                'pass one of them.')
        if self.stopping_strategy != 'first_exhausted' and not self.interleave_prob:
            raise ArgumentError(f'--stopping_strategy {self.stopping_strategy} applies with --interleave_prob only; '
                                'add the probabilities or drop it.')
        if self.interleave_probs and self.mix_strategy == 'concat':
            raise ArgumentError('--interleave_probs applies with --mix_strategy interleave_under or interleave_over; '
                                'add one or drop it.')
        strategy, probs = self.mixing()
        if strategy == 'concat' or probs is None or not self.dataset:
            return
        flag = '--interleave_prob' if self.interleave_prob else '--interleave_probs'
        if len(probs) != len(self.dataset):
            raise ArgumentError(f'{flag} has {len(probs)} values for {len(self.dataset)} --dataset entries: give one '
                                'probability per entry.')
        if any(p < 0 for p in probs) or abs(sum(probs) - 1) > 1e-6:
            raise ArgumentError(f'{flag} {" ".join(map(str, probs))}: probabilities must be >= 0 and sum to 1.')

    def mixing(self):
        """(mix_strategy, probabilities) of the --dataset entries, ms-swift's flags mapped onto LLaMA-Factory's."""
        if self.interleave_prob:
            over = self.stopping_strategy == 'all_exhausted'
            return ('interleave_over' if over else 'interleave_under'), list(self.interleave_prob)
        if not self.interleave_probs:
            return self.mix_strategy, None
        try:
            return self.mix_strategy, [float(p) for p in self.interleave_probs.split(',') if p.strip()]
        except ValueError:
            raise ArgumentError(f'--interleave_probs {self.interleave_probs}: expected comma-separated numbers such '
                                'as 0.7,0.3.') from None


@dataclass
class TemplateArguments:
    group_title = 'template arguments'
    template: Optional[str] = _help('Chat template type; default: the model type\'s template.', default=None)
    system: Optional[str] = _help('System prompt, or a path to a .txt file holding it; default: the '
                                  "template's default system.", default=None)
    max_length: Optional[int] = _help('Max tokens per sample; default: the model\'s max length.', default=None)
    truncation_strategy: Literal['delete', 'left', 'right'] = _help(
        'What to do with samples over --max_length: delete, or cut tokens on the left or right.', default='delete')
    max_pixels: Optional[int] = _help('Max pixels (H*W) of an image: larger images are scaled down (aspect kept) '
                                      'before the model\'s processor (multimodal models; see docs/multimodal.md).',
                                      default=None)
    tools_prompt: Optional[str] = _help(
        'Agent format of tools and tool calls: react_en, react_zh, toolbench, hermes (alias qwen), glm4, glm4_0414, '
        'llama3, deepseek, mistral, qwen_en, qwen_zh, qwen_en_parallel, qwen_zh_parallel; default: the template '
        "family's official format (hermes for Qwen2.5/Qwen3, llama3 for Llama 3.1/3.2, glm4, deepseek), else react_en.",
        default=None)
    norm_bbox: Optional[Literal['norm1000', 'none']] = _help('Bounding box scaling of grounding tasks (multimodal; '
                                                             'refused here).', default=None)
    padding_side: Literal['left', 'right'] = _help('Padding side of training batches.', default='right')
    loss_scale: str = _help('Token loss weights: default, last_round, all, or an agent scheme: react, qwen, hermes, '
                            'agentflan, alpha_umi.', default='default')
    sequence_parallel_size: int = _help('Sequence parallel size.', default=1)
    use_chat_template: bool = _help('Chat template (true) or generation template (false; `swift pt`).',
                                    default=True)
    template_backend: Literal['swift', 'jinja'] = _help(
        "'swift', or 'jinja' for the tokenizer's own chat template (inference only).", default='swift')
    enable_thinking: Optional[bool] = _help(
        "Thinking switch of Qwen3-style templates: false ends the generation prompt with an empty think block, as "
        "the official template's enable_thinking=False does; default: the template's (thinking).", default=None)

    def validate(self):
        if self.max_length is not None and self.max_length < 1:
            raise ArgumentError(f'--max_length must be positive, got {self.max_length}.')


@dataclass
class GenerationArguments:
    group_title = 'generation arguments'
    max_new_tokens: Optional[int] = _help('Max new tokens to generate; default: no limit.', default=None)
    temperature: Optional[float] = _help('Sampling temperature; 0 means greedy; default: generation_config.json.',
                                         default=None)
    top_k: Optional[int] = _help('Top-k sampling; default: generation_config.json.', default=None)
    top_p: Optional[float] = _help('Top-p sampling; default: generation_config.json.', default=None)
    repetition_penalty: Optional[float] = _help('Repetition penalty; default: generation_config.json.',
                                                default=None)
    num_beams: int = _help('Beam search width.', default=1)
    stream: bool = _help('Stream the output.', default=False)
    stop_words: List[str] = _list('Extra stop words (kept in the output; the eos token is removed).')
    logprobs: bool = _help('Return log-probabilities.', default=False)
    top_logprobs: Optional[int] = _help('Number of top log-probabilities per token.', default=None)

    def validate(self):
        if self.temperature is not None and self.temperature < 0:
            raise ArgumentError(f'--temperature must be >= 0, got {self.temperature}.')


@dataclass
class QuantizeArguments:
    group_title = 'quantization arguments'
    quant_method: Optional[Literal['bnb', 'hqq', 'eetq']] = _help('Quantize the model when loading it.', default=None)
    quant_bits: Optional[int] = _help('Quantization bits (bnb: 4 or 8).', default=None)
    hqq_axis: Optional[int] = _help('hqq quantization axis.', default=None)
    bnb_4bit_compute_dtype: Optional[Literal['float16', 'bfloat16', 'float32']] = _help(
        'bnb compute dtype; default: --torch_dtype.', default=None)
    bnb_4bit_quant_type: Literal['fp4', 'nf4'] = _help('bnb 4-bit quantization type.', default='nf4')
    bnb_4bit_use_double_quant: bool = _help('bnb double quantization.', default=True)
    bnb_4bit_quant_storage: Optional[str] = _help('bnb quantized storage dtype.', default=None)

    def validate(self):
        if self.quant_method and self.quant_bits is None:
            raise ArgumentError(f'--quant_method {self.quant_method} needs --quant_bits (e.g. 4 or 8).')
        if self.quant_method == 'bnb' and self.quant_bits not in (4, 8):
            raise ArgumentError(f'--quant_method bnb supports --quant_bits 4 or 8, got {self.quant_bits}.')


@dataclass
class MergeArguments:
    group_title = 'merge arguments'
    merge_lora: bool = _help('Merge --adapters (LoRA, DoRA, rsLoRA and other mergeable peft tuners) into the base '
                             'model and save the result.', default=False)
    safe_serialization: bool = _help('Save weights as safetensors (transformers 5 writes nothing else: '
                                     'false is refused).', default=True)
    max_shard_size: str = _help("Largest weight file, e.g. '5GB' or '500MB'.", default='5GB')
