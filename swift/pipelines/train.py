"""The training step of `swift sft` / `swift pt`: tuner -> trainer -> train (or resume) -> outputs and a summary."""
import os
import resource
import sys
from typing import Any, Dict, Optional

import torch
from transformers import set_seed
from transformers.trainer_utils import get_last_checkpoint

from swift.utils import ArgumentError, get_logger

logger = get_logger()


def train(args, model, template, train_dataset, val_dataset) -> Dict[str, Any]:
    """Train `model` on the encoded datasets; returns output_dir, last/best checkpoint paths and log_history."""
    from swift.trainers import Seq2SeqTrainer, check_loss_type, check_report_to
    from swift.tuners import prepare_model, get_trainable_summary
    check_report_to(args.report_to)
    loss_func = check_loss_type(args.loss_type)
    _check_plugins(args)
    set_seed(args.seed)  # tuner weights (e.g. LoRA A) are drawn here, before the Trainer seeds anything
    model = prepare_model(args, model, template=template, train_dataset=train_dataset)  # LoRA-GA reads data
    trainable = get_trainable_summary(model)
    logger.info(trainable)
    _enable_input_grads(args, model)
    train_dataset, val_dataset, collator = _datasets_and_collator(args, template, train_dataset, val_dataset)
    overrides = _device_overrides(args)
    if val_dataset is None and args.eval_strategy != 'no':
        overrides['eval_strategy'] = 'no'  # nothing to evaluate on (--split_dataset_ratio 0, no --val_dataset)
    training_args = args.training_args(**overrides)
    trainer = Seq2SeqTrainer(
        model=model, args=training_args, data_collator=collator, train_dataset=train_dataset,
        eval_dataset=val_dataset, processing_class=template.tokenizer, callbacks=_callbacks(args, model),
        swift_args=args, template=template, loss_func=loss_func, optimizers=_optimizers(args, model, training_args),
        **_metric_kwargs(args))
    if trainer.is_world_process_zero():
        args.save_args(args.output_dir)
    logger.info(f'output_dir: {args.output_dir}')
    trainer.train(resume_from_checkpoint=_resume(args, trainer))
    last = _final_checkpoint(args, trainer)
    result = {
        'output_dir': args.output_dir,
        'last_model_checkpoint': last,
        'best_model_checkpoint': trainer.state.best_model_checkpoint,
        'log_history': trainer.state.log_history,
    }
    if trainer.is_world_process_zero():
        _print_summary(args, trainable, result)
    return result


def _metric_kwargs(args) -> Dict[str, Any]:
    from swift.plugin.metric import get_metric
    compute_metrics, preprocess = get_metric(args.metric)
    return {'compute_metrics': compute_metrics, 'preprocess_logits_for_metrics': preprocess}


def _check_plugins(args) -> None:
    """Unknown --metric / --optimizer names fail here, listing the registered ones."""
    from swift.plugin import check_metric, optimizers
    check_metric(args.metric)
    if args.optimizer:
        optimizers.get(args.optimizer)


def _optimizers(args, model, training_args) -> tuple:
    """(optimizer, None) from the --optimizer plugin (the Trainer builds the schedule), else (None, None)."""
    if not args.optimizer:
        return None, None
    from swift.plugin import create_optimizer
    return create_optimizer(args.optimizer, args, model, training_args), None


def _device_overrides(args) -> Dict[str, Any]:
    if torch.cuda.is_available():
        return {}
    if args.bf16 or args.fp16:
        logger.warning('No CUDA device: training in fp32 on CPU (--bf16/--fp16 do not apply).')
    return {'use_cpu': True, 'bf16': False, 'fp16': False}


def _enable_input_grads(args, model) -> None:
    """Gradient checkpointing recomputes blocks from their inputs: with frozen embeddings (adapters) those inputs
    must require grad or no gradient reaches the adapters."""
    embeddings = model.get_input_embeddings()
    if args.gradient_checkpointing and not embeddings.weight.requires_grad:
        model.enable_input_require_grads()


def _datasets_and_collator(args, template, train_dataset, val_dataset):
    if not args.packing:
        return train_dataset, val_dataset, template.data_collator
    from swift.template.packing import IterablePackedDataset, PackedDataset, PackingCollator, packing_length
    if args.lazy_tokenize:
        raise ArgumentError('--packing needs every sample\'s length up front: drop --lazy_tokenize.')
    if args.predict_with_generate:
        raise ArgumentError('--predict_with_generate cannot score packed samples: drop --packing.')
    length = packing_length(args.max_length, template)

    def pack(dataset):
        if dataset is None:
            return None
        if isinstance(dataset, torch.utils.data.IterableDataset) or not hasattr(dataset, '__len__'):
            return IterablePackedDataset(dataset, length, seed=args.data_seed)
        return PackedDataset(dataset, length)
    return pack(train_dataset), pack(val_dataset), PackingCollator.from_template(template)


def _callbacks(args, model):
    from swift.trainers.callbacks import CheckpointSymlinkCallback, LoggingJsonlCallback, PlotLossCallback
    callbacks = [LoggingJsonlCallback(args.output_dir)]
    if args.plot_loss:
        callbacks.append(PlotLossCallback(args.output_dir))
    if args.create_checkpoint_symlink:
        callbacks.append(CheckpointSymlinkCallback())
    from swift.tuners import tuner_callbacks
    callbacks += tuner_callbacks(args, model)  # AdaLoRA budget, LISA layer switching
    from swift.plugin import build_callbacks
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
    last = get_last_checkpoint(args.output_dir) if os.path.isdir(args.output_dir) else None
    if last is None or args.save_strategy == 'no':
        trainer.save_model(args.output_dir)
        last = args.output_dir
    return last


def _memory_peak() -> str:
    if torch.cuda.is_available():
        return f'{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB (cuda max_memory_allocated)'
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_bytes = rss if sys.platform == 'darwin' else rss * 1024  # bytes on macOS, KiB on Linux
    return f'{rss_bytes / 2**30:.2f} GiB (process peak RSS)'


def _print_summary(args, trainable: str, result: Dict[str, Any]) -> None:
    from swift.trainers.callbacks import IMAGES_DIR, LOGGING_FILE
    out = args.output_dir
    lines = [
        trainable,
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
