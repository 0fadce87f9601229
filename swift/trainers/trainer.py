"""Seq2SeqTrainer: transformers' trainer plus loss_scale weighting, accuracy, speed/ETA log fields, generation
metrics, and checkpoints that carry args.json (what infer/export read back)."""
import errno
import inspect
import os
import shutil
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta
from types import MethodType
from typing import Dict, List, Optional

import torch
from transformers import Seq2SeqTrainer as HfSeq2SeqTrainer
from transformers import TrainerCallback

from swift.tuners.hooked import is_hooked, save_hook_tuner
from swift.utils import SwiftError
from .generate import generate_and_score
from .loss import accuracy_counts, causal_lm_loss


@contextmanager
def disk_full_as_swift_error(directory: str):
    """Turn 'no space left on device' while writing `directory` into a one-line SwiftError."""
    try:
        yield
    except Exception as e:  # safetensors raises its own error type carrying the OS message
        if isinstance(e, SwiftError):
            raise
        if not (getattr(e, 'errno', None) == errno.ENOSPC or 'No space left' in str(e)):
            raise
        existing = directory
        while existing and not os.path.exists(existing):
            existing = os.path.dirname(existing)
        free = shutil.disk_usage(existing or '.').free / 2**30
        raise SwiftError(f'No space left on the device while saving {directory} ({free:.2f} GiB free): free disk '
                         'space, lower --save_total_limit or set --save_only_model true.') from None


def _format_seconds(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))


class _TrainBegin(TrainerCallback):

    def __init__(self, trainer):
        self.trainer = trainer

    def on_train_begin(self, args, state, control, **kwargs):
        self.trainer._on_train_begin(state.global_step)


class AtomicCheckpointMixin:
    """Checkpoints of every swift trainer (sft/pt and the rlhf ones) appear complete or not at all."""

    def _save_checkpoint(self, model, trial) -> None:
        """Written into `.checkpoint-N.incomplete` and renamed when complete, so a kill mid-save never leaves a
        `checkpoint-N` that resuming would trust; old checkpoints are rotated only after the rename."""
        from transformers.trainer_utils import rotate_checkpoints
        from swift.utils.atomic import publish_dir, staging_path
        run_dir = self.args.output_dir
        final = os.path.join(run_dir, f'checkpoint-{self.state.global_step}')
        root = staging_path(final)  # run_dir/.checkpoint-N.incomplete/checkpoint-N while it is written
        if self.args.should_save and os.path.isdir(root):
            shutil.rmtree(root)  # left by a killed run
        self.accelerator.wait_for_everyone()
        with disk_full_as_swift_error(final):
            self._staging_root = root
            tmp = os.path.join(root, os.path.basename(final))
            try:
                super()._save_checkpoint(model, trial)
            finally:
                self._staging_root = None
            self.accelerator.wait_for_everyone()
            if not self.args.should_save:
                return
            best = self.state.best_model_checkpoint
            if best and os.path.dirname(best) == os.path.dirname(tmp):
                self.state.best_model_checkpoint = os.path.join(run_dir, os.path.basename(best))
                self.state.save_to_json(os.path.join(tmp, 'trainer_state.json'))
            publish_dir(tmp, final)
            shutil.rmtree(root, ignore_errors=True)
            rotate_checkpoints(output_dir=run_dir, save_total_limit=self.args.save_total_limit,
                               best_model_checkpoint=self.state.best_model_checkpoint, use_mtime=True)

    def _get_output_dir(self, trial):
        """During a checkpoint save: the staging root (see _save_checkpoint)."""
        return getattr(self, '_staging_root', None) or super()._get_output_dir(trial)


class Seq2SeqTrainer(AtomicCheckpointMixin, HfSeq2SeqTrainer):
    """`swift_args` are the swift TrainArguments (saved as args.json into every checkpoint); `template` encodes
    prompts for `--predict_with_generate`; `loss_func(outputs, labels, loss_scale=None, num_items_in_batch=None)`
    replaces the model's loss (a `--loss_type` plugin)."""

    def __init__(self, *args, swift_args=None, template=None, loss_func=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.swift_args = swift_args
        self.template = template
        self.loss_func = loss_func
        self._loss_func_kwargs = {'trainer': self} if _declares(loss_func, 'trainer') else {}
        self.acc_strategy = getattr(swift_args, 'acc_strategy', 'token')
        self._stats = {'train': defaultdict(float), 'eval': defaultdict(float)}
        self._nlg = defaultdict(list)
        self._tokens_since_log = self.total_tokens = 0
        self._last_log_time = self._begin_time = time.time()
        self._begin_step = 0
        self._eval_seconds = 0.
        self.add_callback(_TrainBegin(self))

    # ----- loss and accuracy -----
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        num_tokens = inputs.pop('num_tokens', None)
        loss_scale = inputs.pop('loss_scale', None)
        labels = inputs.get('labels')
        # Without a cache transformers reads packed samples from position_ids (and it saves memory).
        inputs['use_cache'] = False
        if loss_scale is None and self.loss_func is None:
            loss, outputs = super().compute_loss(model, inputs, True, num_items_in_batch)
        else:
            inputs.pop('labels')
            outputs = model(**inputs)
            if self.loss_func is not None:
                loss = self.loss_func(outputs, labels, loss_scale=loss_scale, num_items_in_batch=num_items_in_batch,
                                      **self._loss_func_kwargs)
            else:
                loss = causal_lm_loss(outputs.logits, labels, loss_scale, num_items_in_batch)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes
        logits = getattr(outputs, 'logits', None)
        if labels is not None and logits is not None and logits.dim() == 3:  # causal LM (not seq_cls)
            self._count(logits, labels, inputs, num_tokens)
        return (loss, outputs) if return_outputs else loss

    def _count(self, logits, labels, inputs, num_tokens):
        """Accumulate accuracy and token counts as tensors: no device sync until the next log."""
        correct, total = accuracy_counts(logits, labels, self.acc_strategy)
        stats = self._stats['train' if self.model.training else 'eval']
        stats['correct'] = stats['correct'] + correct
        stats['total'] = stats['total'] + total
        if self.model.training:
            if num_tokens is None:
                mask = inputs.get('attention_mask')
                num_tokens = mask.sum() if mask is not None else inputs['input_ids'].numel()
            self._tokens_since_log = self._tokens_since_log + num_tokens
            self.total_tokens = self.total_tokens + num_tokens

    @property
    def _acc_key(self) -> str:
        return 'seq_acc' if self.acc_strategy == 'seq' else 'token_acc'

    def _reduce(self, values) -> List[float]:
        """Sum numbers (or scalar tensors) over processes."""
        tensor = torch.stack([torch.as_tensor(v, dtype=torch.float64).to(self.args.device) for v in values])
        if self.accelerator.num_processes > 1:
            tensor = self.accelerator.reduce(tensor, reduction='sum')
        return tensor.tolist()

    # ----- logging -----
    def _on_train_begin(self, global_step: int):
        self._begin_time = self._last_log_time = time.time()
        self._begin_step, self._eval_seconds = global_step, 0.

    def log(self, logs: Dict[str, float], start_time: Optional[float] = None) -> None:
        if 'loss' in logs:
            self._add_train_metrics(logs)
        if 'train_runtime' in logs and getattr(self.swift_args, 'include_effective_tokens_per_second', False):
            tokens = self._reduce([self.total_tokens])[0]
            logs['effective_tokens_per_sec'] = round(tokens / max(logs['train_runtime'], 1e-6), 2)
        if not any(key.startswith('eval_') for key in logs):
            self._add_progress(logs)
        super().log(logs, start_time)

    def _add_train_metrics(self, logs):
        stats = self._stats['train']
        correct, total, tokens = self._reduce([stats['correct'], stats['total'], self._tokens_since_log])
        if total:
            logs[self._acc_key] = round(correct / total, 6)
        now = time.time()
        seconds = now - self._last_log_time - self._eval_seconds  # evaluation time is not training time
        logs['tokens/s'] = round(tokens / max(seconds, 1e-6), 2)
        self._stats['train'] = defaultdict(float)
        self._tokens_since_log, self._last_log_time, self._eval_seconds = 0, now, 0.

    def _add_progress(self, logs):
        step, max_steps = self.state.global_step, self.state.max_steps
        elapsed = time.time() - self._begin_time
        done = step - self._begin_step
        remaining = elapsed / done * (max_steps - step) if done > 0 else 0.
        logs['global_step/max_steps'] = f'{step}/{max_steps}'
        logs['elapsed'] = _format_seconds(elapsed)
        logs['remaining'] = _format_seconds(remaining)

    # ----- evaluation -----
    def evaluation_loop(self, dataloader, description, prediction_loss_only=None, ignore_keys=None,
                        metric_key_prefix='eval'):
        self._stats['eval'], self._nlg = defaultdict(float), defaultdict(list)
        begin = time.time()
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys,
                                         metric_key_prefix)
        self._eval_seconds += time.time() - begin
        stats = self._stats['eval']
        correct, total = self._reduce([stats['correct'], stats['total']])
        if total:
            output.metrics[f'{metric_key_prefix}_{self._acc_key}'] = round(correct / total, 6)
        for name in (('rouge-l', 'bleu-4') if self.args.predict_with_generate else ()):  # same keys on every rank
            score, count = self._reduce([sum(self._nlg[name]), len(self._nlg[name])])
            if count:
                output.metrics[f'{metric_key_prefix}_{name}'] = round(100 * score / count, 4)
        return output

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None, **gen_kwargs):
        """The loss (accuracy is counted in compute_loss), plus generation scores with --predict_with_generate;
        logits are never gathered, so evaluation memory does not grow with the vocabulary."""
        inputs = self._prepare_inputs(inputs)
        prompts, references = inputs.pop('prompt_ids', None), inputs.pop('response', None)
        # Not gated on prediction_loss_only: transformers sets it whenever compute_metrics is None.
        if self.args.predict_with_generate and prompts:
            scores = generate_and_score(model, self.template, prompts, references,
                                        self.swift_args.max_new_tokens or 64, self.swift_args.temperature or 0.)
            for name, values in scores.items():
                self._nlg[name].extend(values)
        with torch.no_grad():
            if self.compute_metrics is None:
                return self.compute_loss(model, inputs).detach(), None, None
            # A --metric plugin: hand logits and labels to transformers, which gathers them for compute_metrics.
            loss, outputs = self.compute_loss(model, inputs, return_outputs=True)
        return loss.detach(), outputs.logits, inputs.get('labels')

    # ----- saving -----
    def _save(self, output_dir: Optional[str] = None, state_dict=None) -> None:
        output_dir = output_dir or self.args.output_dir
        with disk_full_as_swift_error(output_dir):
            model = self.accelerator.unwrap_model(self.model)
            tuner = self._plugin_tuner()
            if tuner is not None:
                if self.args.should_save:
                    tuner.save_pretrained(model, output_dir, state_dict=state_dict)
                    if self.processing_class is not None:  # every checkpoint carries its (grown) vocabulary
                        self.processing_class.save_pretrained(output_dir)
            elif _is_peft(model) or is_hooked(model):
                self._save_adapter(model, output_dir, state_dict)
            else:
                super()._save(output_dir, state_dict)
            processor = getattr(self.processing_class, 'processor', None)  # a multimodal model's processor
            if self.args.should_save and processor is not None:
                processor.save_pretrained(output_dir)
            if self.args.should_save and self.swift_args is not None:
                self.swift_args.save_args(output_dir)

    def _plugin_tuner(self):
        from swift.plugin import tuners
        train_type = getattr(self.swift_args, 'train_type', None)
        return tuners.get(train_type) if train_type in tuners else None

    def _save_adapter(self, model, output_dir: str, state_dict) -> None:
        from swift.tuners import save_adapter
        if not self.args.should_save:
            return
        os.makedirs(output_dir, exist_ok=True)
        if is_hooked(model):  # adapter / reft: only the hooked modules
            save_hook_tuner(model, output_dir)
        else:
            save_adapter(model, output_dir, state_dict=state_dict)
        if self.processing_class is not None:
            self.processing_class.save_pretrained(output_dir)
        generation_config = getattr(model, 'generation_config', None)
        if generation_config is not None:
            generation_config.save_pretrained(output_dir)

    # ----- optimizer -----
    def create_optimizer(self, model=None):
        if self.optimizer is None and build_builtin_optimizer(self) is not None:
            return self.optimizer
        return super().create_optimizer(model)


def build_builtin_optimizer(trainer):
    """Set trainer.optimizer to the built-in optimizer the swift flags select (GaLore, APOLLO, Adam-mini, BAdam,
    LoRA+) and return it; None when none is selected (transformers' --optim applies)."""
    from swift.plugin import create_optimizer
    from swift.tuners import builtin_optimizer_name
    args = trainer.swift_args
    name = builtin_optimizer_name(args) if args is not None else None
    if name is None:
        return None
    trainer.optimizer = create_optimizer(name, args, trainer.model, trainer.args)
    if name == 'badam' and args.badam_mode == 'ratio':
        from badam import clip_grad_norm_old_version  # ratio mode leaves sparse gradients
        trainer.accelerator.clip_grad_norm_ = MethodType(clip_grad_norm_old_version, trainer.accelerator)
    return trainer.optimizer


def _declares(fn, name: str) -> bool:
    if fn is None:
        return False
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def _is_peft(model) -> bool:
    try:
        from peft import PeftModel
    except ImportError:
        return False
    return isinstance(model, PeftModel)
