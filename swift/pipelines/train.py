"""The one training flow of `swift sft`, `swift pt` and `swift rlhf` (every trl algorithm and PPO):

    check arguments, plugin names and data -> raw datasets -> model + tokenizer -> template -> encoded datasets
    -> tuner -> trainer -> train (or resume) -> outputs and a summary

Subclasses choose only the row encoder, the trainer and the dry-run printout (SwiftSft, SwiftRLHF).
"""
import os
import resource
import sys
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Union

from swift.utils import ArgumentError, get_logger
from .base import build_template, load_datasets, load_model_tokenizer, to_args
from .data_cache import cache_record, concat_parts, dataset_key, describe_encoding, export_hint, refuse_mismatch

logger = get_logger()


class SwiftTrain(ABC):
    args_class = None  # set by subclasses
    prog = ''

    def __init__(self, args: Union[None, Any, Sequence[str]] = None):
        self.args = to_args(self.args_class, args, self.prog)
        self.train_stats = None  # EncodeStats of the training set, once encoded

    def run(self):
        args = self.args
        check_plugins(args)
        if not args.dry_run:  # two runs never share a version dir; a second live run into one fails here
            from swift.utils.run_lock import claim_run_dir
            args.output_dir = claim_run_dir(args.output_dir, args.add_version)
        caches = self.read_caches()  # --cached_dataset / --tokenized_path: checked before any weights load
        from swift.dataset.report import stream_reports
        stream_reports(clear=True)
        raw_train, raw_val = None, None
        if args.dataset or not caches:
            raw_train, raw_val = load_datasets(args, origins=True)  # bad data fails here, before weights load
            self.check_data(raw_train, raw_val)
        zero3 = _zero3_training_args(args)  # alive until the trainer exists (see there)
        model, tokenizer = load_model_tokenizer(args, load_model=not args.dry_run)
        if zero3 is not None:
            from swift.distributed import log_zero3_partition
            log_zero3_partition(model)
        template = build_template(args, tokenizer, mode='train')
        train_dataset, val_dataset = self.encode(template, raw_train, raw_val, caches)
        if args.dry_run:
            self.print_dry_run(template, train_dataset)
            return None
        return self.train(model, template, train_dataset, val_dataset)

    # ----- what subclasses choose -----
    keep_length = True  # whether encoded rows keep their 'length' column (packing, group_by_length)

    def row_encoder(self, template, split: str):
        from swift.dataset.encode import sft_encoder
        return sft_encoder(template)

    def encoding(self, split: str) -> str:
        """The name of `row_encoder(split)` in cache manifests: what the encoded rows hold."""
        return 'sft'

    def from_cached_encoding(self, encoding: str):
        """None when rows of a cache made with `encoding` are this run's rows as they are, a row converter when
        they convert; else the one-line reason they cannot be used."""
        if encoding == self.encoding('train'):
            return None
        return f'it holds rows encoded for {describe_encoding(encoding)}, this run needs ' \
               f'{describe_encoding(self.encoding("train"))}'

    def check_data(self, raw_train, raw_val) -> None:
        """Reject datasets the command cannot use (before weights load); rows are checked while encoding."""

    @abstractmethod
    def build_trainer(self, model, template, train_dataset, val_dataset, overrides: Dict[str, Any], callbacks):
        """The trainer object: `train(resume_from_checkpoint)`, `state`, `save_model`, `is_world_process_zero`."""

    @abstractmethod
    def print_dry_run(self, template, dataset) -> None:
        """What --dry_run shows of the encoded training set."""

    # ----- shared steps -----
    def read_caches(self):
        """[(flag, path, manifest)] of --cached_dataset and an existing --tokenized_path, with the checks the
        arguments allow before the tokenizer exists (encoding kind, max_length, truncation, loss_scale)."""
        from swift.dataset import cache
        from swift.utils import DatasetError
        args, out = self.args, []
        tokenized = [args.tokenized_path] if args.tokenized_path and os.path.isdir(args.tokenized_path) else []
        for flag, path in [('--cached_dataset', p) for p in args.cached_dataset] + \
                [('--tokenized_path', p) for p in tokenized]:
            manifest = cache.read_manifest(path)
            if manifest is None and flag == '--cached_dataset':
                raise DatasetError(f'--cached_dataset {path}: no encoded-dataset cache there (no {cache.MANIFEST}); '
                                   'create one with `swift export --to_cached_dataset true --dataset ... '
                                   f'--output_dir {path}`.')
            if manifest is None and os.listdir(path):
                raise DatasetError(f'--tokenized_path {path} holds files but no encoded-dataset cache (no '
                                   f'{cache.MANIFEST}): pass a new or empty directory.')
            if manifest is None:
                continue  # an empty --tokenized_path dir: encoded and saved there
            reason = self.from_cached_encoding(manifest['key']['encoding'])
            if isinstance(reason, str):
                raise DatasetError(f'{flag} {path} cannot feed this run: {reason}; '
                                   f'{export_hint(self.encoding("train"))}')
            if flag == '--cached_dataset' or not args.dataset:
                run = {'max_length': args.max_length, 'truncation_strategy': args.truncation_strategy,
                       'loss_scale': args.loss_scale, 'use_chat_template': args.use_chat_template}
                if args.template:
                    run['template'] = args.template
                refuse_mismatch(flag, path, manifest['key'], run)
            out.append((flag, path, manifest))
        return out

    def encode(self, template, raw_train, raw_val, caches=()):
        """Encoded (train, val): the caches' rows (checked against this run) followed by --dataset's rows,
        encoded now or taken from --tokenized_path / the --enable_cache cache."""
        from swift.dataset import cache
        parts = []
        for flag, path, manifest in caches:
            if flag == '--cached_dataset' or raw_train is None:
                parts.append(self._from_cache(template, flag, path, manifest))
        if raw_train is not None:
            parts.append(self._encode_raw(template, raw_train, raw_val))
        datasets, stats = concat_parts(parts)
        self.train_stats = stats['train']
        on_the_fly = '--lazy_tokenize' if self.args.lazy_tokenize else '--streaming' if self.args.streaming else ''
        for split in cache.SPLITS:
            if datasets[split] is None:
                continue
            if on_the_fly:  # nothing is encoded yet: the counts fill while training reads rows
                logger.info(f'{split} dataset: encoded while training ({on_the_fly}); rows the template cannot use '
                            'are counted per reason in the summary at the end')
            else:
                logger.info(f'{split} dataset: {stats[split]}')
        return datasets['train'], datasets['val']

    def _from_cache(self, template, flag, path, manifest):
        from swift.dataset import cache
        key = cache.encoding_key(template, self.encoding('train'))
        refuse_mismatch(flag, path, manifest['key'], key, [k for k in key if k != 'encoding'])
        datasets, stats = cache.load_cache(path, manifest, self.keep_length)
        convert = self.from_cached_encoding(manifest['key']['encoding'])
        if convert is not None:
            datasets = {s: d.map(convert, remove_columns=d.column_names) if d is not None else None
                        for s, d in datasets.items()}
        logger.info(f'{flag} {path}: {stats["train"].rows_kept} encoded train rows, encoding skipped.')
        return datasets, stats

    def _encode_raw(self, template, raw_train, raw_val):
        from swift.dataset import cache, encode_dataset
        args = self.args
        opts = dict(num_proc=args.dataset_num_proc, strict=args.strict, lazy=args.lazy_tokenize,
                    keep_length=self.keep_length)

        def encode(split, raw):
            return encode_dataset(raw, template, encoder=self.row_encoder(template, split), **opts)
        raws = {'train': raw_train, 'val': raw_val}
        if not (args.tokenized_path or args.enable_cache or args.load_from_cache_file):
            stats = {}
            datasets = {s: None for s in cache.SPLITS}
            for split, raw in raws.items():
                if raw is not None:
                    datasets[split], stats[split] = encode(split, raw)
            return datasets, stats
        key = dataset_key(template, self.encoding('train'), self.encoding('val'), raw_train, raw_val)
        flag = '--tokenized_path' if args.tokenized_path else '--enable_cache'
        path = args.tokenized_path or cache.auto_cache_dir(key)
        datasets, stats, _ = cache.encode_through_cache(path, raws, encode, key, cache_record(args), what=flag,
                                                        keep_length=self.keep_length)
        return datasets, stats

    def data_summary(self) -> List[str]:
        """Summary lines on the data: the encoding counts (for --lazy_tokenize / --streaming, of the rows read so
        far) and, for a stream, each source's preprocessing drops per reason with their lines."""
        from swift.dataset.report import stream_reports
        lines = [f'train data: {self.train_stats}'.replace('\n', '; ')] if self.train_stats is not None else []
        if self.args.streaming:
            lines += [f'streamed {r.summary()}{"" if r.finished else " (of the rows read so far)"}'
                      for r in stream_reports()]
        return lines

    def train(self, model, template, train_dataset, val_dataset) -> Dict[str, Any]:
        """Tuner -> trainer -> train (or resume); returns output_dir, last/best checkpoints and log_history."""
        from transformers import set_seed
        from swift.tuners import get_trainable_summary, prepare_model
        args = self.args
        set_seed(args.seed)  # tuner weights (e.g. LoRA A) are drawn here, before the Trainer seeds anything
        model = prepare_model(args, model, template=template, train_dataset=train_dataset)  # LoRA-GA reads data
        trainable = get_trainable_summary(model)
        logger.info(trainable)
        _enable_input_grads(args, model)
        overrides = _device_overrides(args)
        if val_dataset is None and args.early_stop_interval:
            raise ArgumentError(f'--early_stop_interval {args.early_stop_interval} compares evaluations, but there '
                                'is no validation set: add --val_dataset or --split_dataset_ratio > 0.')
        if val_dataset is None and args.eval_strategy != 'no':
            overrides['eval_strategy'] = 'no'  # nothing to evaluate on (--split_dataset_ratio 0, no --val_dataset)
        trainer = self.build_trainer(model, template, train_dataset, val_dataset, overrides, _callbacks(args, model))
        if trainer.is_world_process_zero():
            args.save_args(args.output_dir)
        logger.info(f'output_dir: {args.output_dir}')
        trainer.train(resume_from_checkpoint=_resume(args, trainer))
        result = {
            'output_dir': args.output_dir,
            'last_model_checkpoint': _final_checkpoint(args, trainer),
            'best_model_checkpoint': trainer.state.best_model_checkpoint,
            'log_history': trainer.state.log_history,
            'trainer': trainer,
        }
        if trainer.is_world_process_zero():
            _print_summary(args, trainable, result, self.data_summary())
        return result


def check_plugins(args) -> None:
    """Unknown --loss_type / --metric / --optimizer / --report_to / --reward_funcs names fail before loading."""
    import swift.tuners  # noqa: F401  registers the built-in optimizers
    from swift.plugin import check_metric, optimizers, orms
    from swift.trainers import check_loss_type, check_report_to
    check_report_to(args.report_to)
    check_metric(args.metric)
    if args.optimizer:
        optimizers.get(args.optimizer)
    if getattr(args, 'rlhf_type', None) is None:
        check_loss_type(args.loss_type)
    for name in getattr(args, 'reward_funcs', None) or ():
        orms.get(name)


def optimizers_of(args, model, training_args, train_dataset=None) -> tuple:
    """(optimizer, scheduler) from the --optimizer plugin, else (None, None); a None scheduler is built by the
    Trainer from --lr_scheduler_type. ms-swift `optimizers_map` plugins also receive the train dataset."""
    if not args.optimizer:
        return None, None
    from swift.plugin import create_optimizers
    return create_optimizers(args.optimizer, args, model, training_args, train_dataset)


def _device_overrides(args) -> Dict[str, Any]:
    import torch
    from swift.distributed import training_overrides
    overrides = training_overrides(args)  # DeepSpeed / FSDP / sequence parallel / DDP backend
    if torch.cuda.is_available():
        return overrides
    if args.bf16 or args.fp16:
        logger.warning('No CUDA device: training in fp32 on CPU (--bf16/--fp16 do not apply).')
    return {**overrides, 'use_cpu': True, 'bf16': False, 'fp16': False}


def _zero3_training_args(args):
    """Under ZeRO-3 the training arguments, built before the model loads: creating them registers transformers'
    DeepSpeed config (a weak reference, so the caller keeps the object), and from_pretrained then partitions the
    weights as it loads them (deepspeed.zero.Init) instead of loading the whole model on every rank first."""
    from swift.distributed import load_deepspeed_config, zero_stage
    if args.dry_run or zero_stage(load_deepspeed_config(args.deepspeed)) != 3 or \
            int(os.environ.get('WORLD_SIZE', '1')) == 1:  # one process: nothing to partition across
        return None
    training_args = args.training_args(**_device_overrides(args))
    training_args.device  # starts the process group (accelerate), which zero.Init shards across
    import deepspeed  # on CPU accelerate starts gloo without DeepSpeed's comm layer, whose world size zero.Init reads
    deepspeed.init_distributed(dist_backend=training_args.ddp_backend or ('gloo' if training_args.use_cpu else 'nccl'))
    return training_args


def _enable_input_grads(args, model) -> None:
    """Gradient checkpointing recomputes blocks from their inputs: with frozen embeddings (adapters) those inputs
    must require grad or no gradient reaches the adapters."""
    embeddings = model.get_input_embeddings()
    if args.gradient_checkpointing and not embeddings.weight.requires_grad:
        model.enable_input_require_grads()


def _callbacks(args, model):
    from swift.plugin import build_callbacks
    from swift.arguments.swanlab_args import reports_to_swanlab
    from swift.trainers.callbacks import (CheckpointSymlinkCallback, LoggingJsonlCallback, PlotLossCallback,
                                          swanlab_callbacks)
    callbacks = [LoggingJsonlCallback(args.output_dir)]
    if reports_to_swanlab(args.report_to):
        callbacks += swanlab_callbacks(args)
    if args.plot_loss:
        callbacks.append(PlotLossCallback(args.output_dir))
    if args.create_checkpoint_symlink:
        callbacks.append(CheckpointSymlinkCallback())
    if args.early_stop_interval:
        from swift.trainers.callbacks import EarlyStopCallback
        callbacks.append(EarlyStopCallback(args.early_stop_interval))
    from swift.tuners import tuner_callbacks
    callbacks += tuner_callbacks(args, model)  # AdaLoRA budget, LISA layer switching
    return callbacks + build_callbacks(args)


def _resume(args, trainer) -> Optional[str]:
    ckpt = args.resume_from_checkpoint
    if not ckpt:
        return None
    if args.resume_only_model:
        logger.info(f'Loading only the model weights from {ckpt}; optimizer, scheduler and data order start fresh.')
        trainer._load_from_checkpoint(ckpt)  # transformers' loader for full, sharded and adapter checkpoints
        return None
    logger.info(f'Resuming from {ckpt}: weights, optimizer, scheduler, RNG states and data position.')
    return ckpt


def _final_checkpoint(args, trainer) -> str:
    """The newest checkpoint dir; without checkpoints (--save_strategy no) the model is saved into output_dir."""
    from transformers.trainer_utils import get_last_checkpoint
    last = get_last_checkpoint(args.output_dir) if os.path.isdir(args.output_dir) else None
    if last is None or args.save_strategy == 'no':
        trainer.save_model(args.output_dir)
        last = args.output_dir
    return last


def _memory_peak() -> str:
    import torch
    if torch.cuda.is_available():
        return f'{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB (cuda max_memory_allocated)'
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_bytes = rss if sys.platform == 'darwin' else rss * 1024  # bytes on macOS, KiB on Linux
    return f'{rss_bytes / 2**30:.2f} GiB (process peak RSS)'


def _print_summary(args, trainable: str, result: Dict[str, Any], data: List[str]) -> None:
    from swift.trainers.callbacks import IMAGES_DIR, LOGGING_FILE
    out = args.output_dir
    lines = [
        trainable,
        *data,
        f'memory peak: {_memory_peak()}',
        f'last checkpoint: {result["last_model_checkpoint"]}',
        f'best checkpoint: {result["best_model_checkpoint"] or "- (no evaluation)"}',
        f'output dir: {out}',
        f'logs: {os.path.join(out, LOGGING_FILE)}',
    ]
    if args.plot_loss:
        lines.append(f'plots: {os.path.join(out, IMAGES_DIR)}')
    if 'tensorboard' in args.report_to or 'all' in args.report_to:
        lines.append(f'tensorboard: tensorboard --logdir {os.path.join(out, "runs")}')
    print('[swift] training finished\n  ' + '\n  '.join(lines), flush=True)
