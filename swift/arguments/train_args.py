"""Training arguments: transformers' Seq2SeqTrainingArguments with ms-swift's defaults, plus training extras."""
import dataclasses
import datetime as dt
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Literal, Optional, Union

from transformers import Seq2SeqTrainingArguments

from swift.utils import ArgumentError, get_logger
from swift.utils.atomic import checkpoint_problem
from .base_args import BaseArguments
from .groups import _help
from .swanlab_args import SwanlabArguments, reporters
from .tuner_args import TunerArguments

logger = get_logger()
# peft tuners that train the embeddings of new tokens as modules_to_save.
VOCAB_TUNERS = ('lora', 'longlora', 'adalora', 'vera', 'boft', 'fourierft')
ADAPTER_TYPES = ('lora', 'longlora', 'adalora', 'adapter', 'vera', 'boft', 'fourierft', 'reft')


@dataclass
class Seq2SeqTrainingOverrides(Seq2SeqTrainingArguments):
    """transformers Seq2SeqTrainingArguments; the defaults below are ms-swift's."""
    group_title = 'trainer arguments (transformers Seq2SeqTrainingArguments)'
    output_dir: Optional[str] = _help('Output directory; default output/<model name>.', default=None)
    gradient_checkpointing: bool = _help('Trade compute for memory.', default=True)
    per_device_train_batch_size: int = _help('Batch size per device for training.', default=1)
    per_device_eval_batch_size: int = _help('Batch size per device for evaluation.', default=1)
    weight_decay: float = _help('Weight decay.', default=0.1)
    learning_rate: Optional[float] = _help('Learning rate; default 1e-5 for full, 1e-4 for adapters.',
                                           default=None)
    lr_scheduler_type: str = _help('Learning rate schedule.', default='cosine')
    report_to: List[str] = dataclasses.field(
        default_factory=lambda: ['tensorboard'],
        metadata={'help': "Where to report: tensorboard, wandb, swanlab, all or none."})
    logging_first_step: bool = _help('Log the first step.', default=True)
    logging_steps: float = _help('Log every N steps.', default=5)
    metric_for_best_model: Optional[str] = _help("Default 'loss', or 'rouge-l' with --predict_with_generate.",
                                                 default=None)
    eval_strategy: Optional[str] = _help("'no', 'steps' or 'epoch'; default: follows --save_strategy.",
                                         default=None)
    warmup_ratio: float = _help('Fraction of steps for linear warmup (sets warmup_steps).', default=0.)
    neftune_noise_alpha: Optional[float] = _help('NEFTune noise; 0 disables; typical 5, 10, 15.', default=0.)
    average_tokens_across_devices: bool = _help('All-reduce token counts for an exact loss across devices.',
                                                default=False)
    deepspeed: Optional[Union[dict, str]] = _help(
        'DeepSpeed: zero0, zero1, zero2, zero2_offload, zero3, zero3_offload (built-in), a JSON file or string.',
        default=None)


@dataclass
class TrainExtras:
    group_title = 'training arguments'
    add_version: bool = _help("Put each run in output_dir/v<N>-<timestamp>.", default=True)
    resume_only_model: bool = _help('With --resume_from_checkpoint, load only the weights.', default=False)
    check_model: bool = _help('Before loading, check that a local model dir holds every weight file its '
                              '*.safetensors.index.json lists.', default=True)
    create_checkpoint_symlink: bool = _help("Create output_dir/best and output_dir/last symlinks.", default=False)
    loss_type: Optional[str] = _help('Loss plugin name; default: the model\'s own loss.', default=None)
    early_stop_interval: Optional[int] = _help(
        'Stop training when --metric_for_best_model has not improved for this many evaluations in a row.',
        default=None)
    packing: bool = _help('Pack samples into max_length sequences (attention kept per sample).', default=False)
    neat_packing: bool = _help('LLaMA-Factory neat packing: packing without cross-sample attention.',
                               default=False)
    padding_free: bool = _help('Each batch as one row without padding, attention kept per sample (the per-batch '
                               'form of --packing).', default=False)
    lazy_tokenize: Optional[bool] = _help('Tokenize samples when they are used instead of up front.',
                                          default=None)
    acc_strategy: Literal['token', 'seq'] = _help('Accuracy per token or per sequence.', default='token')
    max_new_tokens: Optional[int] = _help('Max new tokens for --predict_with_generate.', default=64)
    temperature: Optional[float] = _help('Temperature for --predict_with_generate.', default=0.)
    optimizer: Optional[str] = _help('Optimizer plugin name.', default=None)
    metric: Optional[str] = _help("Metric plugin name; default 'acc', or 'nlg' with --predict_with_generate.",
                                  default=None)
    plot_loss: bool = _help('Write loss curves as PNG into output_dir (LLaMA-Factory).', default=True)
    include_effective_tokens_per_second: bool = _help('Log tokens/s counting only non-pad tokens.',
                                                      default=False)
    cached_dataset: List[str] = dataclasses.field(default_factory=list, metadata={
        'help': 'Encoded datasets written by `swift export --to_cached_dataset true` to train from (with or '
                'without --dataset); refused when made with another template, tokenizer or max_length.'})
    tokenized_path: Optional[str] = _help('LLaMA-Factory: load the encoded dataset from this directory, or encode '
                                          '--dataset and save it there first (the same cache and checks).',
                                          default=None)
    dry_run: bool = _help('Stop after encoding: print one encoded sample and dataset statistics.', default=False)
    resize_vocab: bool = _help('LLaMA-Factory: grow the embeddings to the tokenizer and train the input and output '
                               'embeddings (modules_to_save with adapters); on with --new_special_tokens.',
                               default=False)
    new_special_tokens_config: Optional[str] = _help(
        "LLaMA-Factory: YAML file {'<token>': 'description', ...}: its tokens are added like --new_special_tokens "
        'and the descriptions feed --init_special_tokens desc_init.', default=None)
    init_special_tokens: Literal['noise_init', 'desc_init', 'desc_init_w_noise'] = _help(
        'LLaMA-Factory: initial embedding of new tokens: the mean of the existing rows plus N(0, 1/d) noise '
        '(noise_init), the mean of the embeddings of its description (desc_init), or that plus the noise.',
        default='noise_init')
    zero_hpz_partition_size: Optional[int] = _help(
        'ZeRO++ hierarchical partitioning: shard ZeRO-3 parameters within groups of this many ranks (a node).',
        default=None)


_NO_SAMPLING = ('not read by training: --predict_with_generate generates greedily or with --temperature, up to '
                '--max_new_tokens; drop it.')


@dataclass
class TrainArguments(TrainExtras, SwanlabArguments, TunerArguments, Seq2SeqTrainingOverrides, BaseArguments):
    """Arguments of `swift sft`."""
    load_args: bool = _help('Read args.json from --adapters/--resume_from_checkpoint dirs.', default=False)
    rejected_fields = {
        **{name: _NO_SAMPLING for name in ('top_k', 'top_p', 'repetition_penalty', 'num_beams', 'stream',
                                           'stop_words', 'logprobs', 'top_logprobs')},
        # transformers' Trainer ignores it ("intended for your scripts"), and so do ours.
        'do_predict': 'not read: training never predicts on a test set; run `swift infer --val_dataset ...` '
                      'afterwards; drop it.',
        'sequence_parallel_size': None,  # swift/distributed (Ulysses through accelerate, GPUs)
        'enable_cache': None,  # the encoded-dataset cache (swift/dataset/cache.py)
        'load_from_cache_file': None,
    }

    def __post_init__(self):
        BaseArguments.__post_init__(self)
        if self.neat_packing:
            self.packing = True  # our packing already keeps attention within each sample

    def validate(self):
        BaseArguments.validate(self)
        TunerArguments.validate(self)
        self._validate_generation()
        if self.streaming and self.max_steps <= 0:
            raise ArgumentError('--streaming true needs --max_steps (a streamed dataset has no length).')
        if self.resume_only_model and not self.resume_from_checkpoint:
            raise ArgumentError('--resume_only_model needs --resume_from_checkpoint.')
        if self.resume_from_checkpoint and not os.path.isdir(self.resume_from_checkpoint):
            raise ArgumentError(f'--resume_from_checkpoint {self.resume_from_checkpoint}: directory not found.')
        if self.resume_from_checkpoint and (problem := checkpoint_problem(self.resume_from_checkpoint)):
            raise ArgumentError(problem)
        _check_trainer_choices(self)
        self._validate_swanlab()
        self._validate_cache()
        self._validate_early_stop()
        self._validate_padding_free()
        if self.save_strategy == 'no' and self.create_checkpoint_symlink:
            raise ArgumentError('--create_checkpoint_symlink needs checkpoints: drop --save_strategy no.')
        self._validate_vocab()

    def _validate_padding_free(self):
        if not self.padding_free:
            return
        for flag, on, why in (
                ('predict_with_generate', self.predict_with_generate, 'generation batches are left-padded prompts'),
                ('task_type seq_cls', self.task_type == 'seq_cls', 'one label per sample needs a row per sample'),
                ('acc_strategy seq', self.acc_strategy == 'seq', 'it scores whole rows, here whole batches')):
            if on:
                raise ArgumentError(f'--padding_free true cannot be combined with --{flag}: {why}; drop one of them.')
        if self.packing:
            logger.info('--padding_free true with --packing true: packed rows are already padding-free.')

    def _validate_early_stop(self):
        if self.early_stop_interval is None:
            return
        if self.early_stop_interval < 1:
            raise ArgumentError(f'--early_stop_interval must be a positive number of evaluations, got '
                                f'{self.early_stop_interval}.')
        evaluation = self.eval_strategy or (self.save_strategy if self.save_strategy in ('steps', 'epoch') else 'no')
        if evaluation == 'no':
            raise ArgumentError(f'--early_stop_interval {self.early_stop_interval} needs evaluations: set '
                                '--eval_strategy steps (or epoch), or drop the flag.')

    def _validate_vocab(self):
        if self.init_special_tokens != 'noise_init' and not self.new_special_tokens_config:
            raise ArgumentError(f'--init_special_tokens {self.init_special_tokens} initialises tokens from their '
                                'descriptions: add --new_special_tokens_config tokens.yaml.')
        grows = self.new_special_tokens or self.new_special_tokens_config or self.resize_vocab
        if grows and self.train_type not in ('full',) + VOCAB_TUNERS:
            raise ArgumentError(f'New tokens need trainable embeddings: --train_type {self.train_type} cannot train '
                                f'them; use full or one of {", ".join(VOCAB_TUNERS)}.')

    def _validate_cache(self):
        flags = [f'--{n}' for n in ('cached_dataset', 'tokenized_path', 'enable_cache', 'load_from_cache_file')
                 if getattr(self, n)]
        for mode in ('streaming', 'lazy_tokenize'):
            if flags and getattr(self, mode):
                raise ArgumentError(f'{flags[0]} keeps datasets encoded up front; --{mode} encodes while training: '
                                    'drop one of them.')
        if (self.cached_dataset or self.tokenized_path) and self.predict_with_generate:
            raise ArgumentError(f'{flags[0]} holds loss encodings; --predict_with_generate needs raw validation '
                                'rows: drop one of them (or use --enable_cache true).')

    def _validate_generation(self):
        """--max_new_tokens/--temperature are read by --predict_with_generate only."""
        if self.predict_with_generate:
            return
        for f in dataclasses.fields(TrainExtras):
            if f.name in ('max_new_tokens', 'temperature') and getattr(self, f.name) != f.default:
                raise ArgumentError(f'--{f.name} is read by --predict_with_generate true only (generation during '
                                    'evaluation); add that flag or drop this one.')

    def resolve(self):
        BaseArguments.resolve(self)
        from swift.distributed import check_training_args
        check_training_args(self)  # DeepSpeed config, FSDP, sequence parallel: before any weights load
        if self.learning_rate is None:
            self.learning_rate = 1e-5 if self.train_type == 'full' else 1e-4
        if self.lazy_tokenize is None:
            self.lazy_tokenize = False
        self._resolve_new_tokens()
        if self.data_seed is None:  # transformers' field (None = unseeded order) shadows ours: follow --seed
            self.data_seed = self.seed
        if self.eval_strategy is None:
            self.eval_strategy = self.save_strategy if self.save_strategy in ('steps', 'epoch') else 'no'
        if self.eval_steps is None:
            self.eval_steps = self.save_steps
        if self.metric_for_best_model is None:
            self.metric_for_best_model = 'rouge-l' if self.predict_with_generate else 'loss'
        if self.greater_is_better is None:
            self.greater_is_better = 'loss' not in self.metric_for_best_model
        if self.metric is None:
            self.metric = 'nlg' if self.predict_with_generate else 'acc'
        self._resolve_output_dir()

    def _resolve_new_tokens(self):
        """The tokens of --new_special_tokens_config join --new_special_tokens (so args.json lists them all)."""
        from swift.model.new_tokens import read_token_descriptions
        self.token_descriptions = {}
        if self.new_special_tokens_config:
            self.token_descriptions = read_token_descriptions(self.new_special_tokens_config)
            self.new_special_tokens += [t for t in self.token_descriptions if t not in self.new_special_tokens]
        if self.new_special_tokens and not self.resize_vocab:
            self.resize_vocab = True
            logger.info('--new_special_tokens: --resize_vocab true (the embeddings of the new tokens are trained).')

    def _resolve_output_dir(self):
        if self.output_dir is None:
            self.output_dir = os.path.join('output', model_suffix(self.model))
        self.output_dir = os.path.abspath(os.path.expanduser(self.output_dir))
        if self.add_version and not self.dry_run:
            self.output_dir = add_version_to_dir(self.output_dir)

    def training_args(self, **overrides) -> Seq2SeqTrainingArguments:
        """A real transformers Seq2SeqTrainingArguments built from the resolved fields."""
        names = [f.name for f in dataclasses.fields(Seq2SeqTrainingArguments) if f.init]
        kwargs: Dict[str, Any] = {n: getattr(self, n) for n in names if hasattr(self, n)}
        kwargs['neftune_noise_alpha'] = self.neftune_noise_alpha or None
        if self.warmup_ratio:
            kwargs['warmup_steps'] = self.warmup_ratio
        kwargs['report_to'] = reporters(self.report_to) or 'none'  # SwanLab: its own callback (see reporters)
        kwargs['remove_unused_columns'] = False  # the template's collator decides what the model sees
        kwargs['data_seed'] = self.data_seed
        kwargs['use_liger_kernel'] = self.use_liger_kernel or self.use_liger  # ms-swift's name for HF's flag
        # transformers 5 renamed gradient_checkpointing*; ms-swift's names stay ours.
        for old, new in (('gradient_checkpointing', 'activation_checkpointing'),
                         ('gradient_checkpointing_kwargs', 'activation_checkpointing_kwargs')):
            kwargs[new] = kwargs.pop(old)
        kwargs.update(overrides)
        return Seq2SeqTrainingArguments(**kwargs)


@dataclass
class SftArguments(TrainArguments):
    """Arguments of `swift sft`: supervised fine-tuning."""


@dataclass
class PtArguments(TrainArguments):
    """Arguments of `swift pt`: pre-training (generation template, loss on all tokens)."""
    use_chat_template: bool = _help('Generation template for pre-training.', default=False)
    loss_scale: str = _help('Loss on all tokens for pre-training.', default='all')


def _check_trainer_choices(args) -> None:
    """What transformers would only reject after the weights load (issue 11 item 6)."""
    from transformers.trainer_utils import SchedulerType
    from transformers.training_args import OptimizerNames
    from swift.utils import did_you_mean
    if args.output_dir and os.path.isfile(os.path.expanduser(args.output_dir)):
        raise ArgumentError(f'--output_dir {args.output_dir} is a file; pass a directory (new or existing).')
    for flag, value, kinds in (('lr_scheduler_type', args.lr_scheduler_type, SchedulerType),
                               ('optim', args.optim, OptimizerNames)):
        names = [k.value for k in kinds]
        if str(getattr(value, 'value', value)) not in names:
            raise ArgumentError(f'--{flag} {value!r} is unknown.{did_you_mean(value, names)} '
                                f'Choices: {", ".join(names)}.')
    evaluation = args.eval_strategy or (args.save_strategy if args.save_strategy in ('steps', 'epoch') else 'no')
    if args.load_best_model_at_end and args.save_strategy != 'best' and evaluation != args.save_strategy:
        raise ArgumentError(f'--load_best_model_at_end true needs --eval_strategy equal to --save_strategy '
                            f'(got {evaluation!r} and {args.save_strategy!r}), or --save_strategy best.')


def model_suffix(model: str) -> str:
    return os.path.basename(os.path.normpath(str(model))) or 'model'


def add_version_to_dir(output_dir: str) -> str:
    """output_dir/v<N>-<YYYYmmdd-HHMMSS>, N one more than the highest existing version."""
    versions = [-1]
    if os.path.isdir(output_dir):
        for name in os.listdir(output_dir):
            match = re.match(r'v(\d+)-', name)
            if match:
                versions.append(int(match.group(1)))
    stamp = dt.datetime.now().strftime('%Y%m%d-%H%M%S')
    return os.path.join(output_dir, f'v{max(versions) + 1}-{stamp}')
