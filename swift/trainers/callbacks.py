"""Trainer callbacks: logging.jsonl, loss plots, best/last checkpoint symlinks; plus the `--report_to` check and
SwanLab's callback."""
import importlib.util
import json
import math
import os
from typing import Dict, List, Optional, Sequence

from transformers import TrainerCallback

from swift.utils import ArgumentError, get_logger

logger = get_logger()
LOGGING_FILE = 'logging.jsonl'
IMAGES_DIR = 'images'
# reporter -> (module to import, pip package)
REPORTER_PACKAGES = {
    'tensorboard': (('tensorboard', 'tensorboardX'), 'tensorboard'),
    'wandb': (('wandb', ), 'wandb'),
    'swanlab': (('swanlab', ), 'swanlab'),
    'mlflow': (('mlflow', ), 'mlflow'),
    'comet_ml': (('comet_ml', ), 'comet_ml'),
    'clearml': (('clearml', ), 'clearml'),
    'dvclive': (('dvclive', ), 'dvclive'),
    'trackio': (('trackio', ), 'trackio'),
}


def check_report_to(report_to: Sequence[str]) -> None:
    """Fail early, in one line, when a requested reporter's package is missing (transformers would skip it)."""
    for name in report_to:
        if name in ('none', 'all'):
            continue
        if name not in REPORTER_PACKAGES:
            raise ArgumentError(f'--report_to {name} is unknown; choose from none, all, '
                                f'{", ".join(REPORTER_PACKAGES)}.')
        modules, package = REPORTER_PACKAGES[name]
        if not any(importlib.util.find_spec(m) for m in modules):
            raise ArgumentError(f'--report_to {name} needs the {package!r} package: pip install {package} '
                                '(or pass --report_to none).')


class SwanlabFinishCallback(TrainerCallback):
    """Ends the SwanLab run with the training (swanlab's callback leaves that to exit), so that its files are
    complete when `swift sft` returns and a next run in the same process starts a new one."""

    def on_train_end(self, args, state, control, **kwargs):
        import swanlab
        if state.is_world_process_zero:
            swanlab.finish()


def swanlab_callbacks(args) -> list:
    """SwanLab's own transformers callback with ms-swift's --swanlab_* arguments (offline and local modes write
    under output_dir/swanlog)."""
    from swanlab.integration.transformers import SwanLabCallback
    if args.swanlab_token:
        os.environ['SWANLAB_API_KEY'] = args.swanlab_token  # read by swanlab's login at init
    log_dir = os.environ.get('SWANLAB_LOG_DIR') or os.path.join(args.output_dir, 'swanlog')
    return [SwanLabCallback(project=args.swanlab_project, workspace=args.swanlab_workspace,
                            experiment_name=args.swanlab_exp_name or args.output_dir, mode=args.swanlab_mode,
                            log_dir=log_dir), SwanlabFinishCallback()]


class LoggingJsonlCallback(TrainerCallback):
    """Appends every log event (train steps, evaluations, the final summary) as one JSON line."""

    def __init__(self, output_dir: str):
        self.path = os.path.join(output_dir, LOGGING_FILE)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        row = {k: v for k, v in logs.items() if k != 'total_flos'}
        row.setdefault('step', state.global_step)
        with open(self.path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(row, ensure_ascii=False) + '\n')


def smooth(values: List[float]) -> List[float]:
    """Exponential moving average whose weight grows with the curve length (as LLaMA-Factory plots it)."""
    if not values:
        return []
    weight = 1.8 * (1 / (1 + math.exp(-0.05 * len(values))) - 0.5)
    last, out = values[0], []
    for v in values:
        last = last * weight + (1 - weight) * v
        out.append(last)
    return out


def plot_curves(log_history: List[Dict], images_dir: str, keys: Sequence[str] = ('loss', 'eval_loss')) -> List[str]:
    """One PNG per key that has values: raw points plus the smoothed curve. Returns the written paths."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    written = []
    for key in keys:
        points = [(row['step'], row[key]) for row in log_history if key in row and 'step' in row]
        if not points:
            continue
        steps, values = zip(*points)
        fig = plt.figure()
        plt.plot(steps, values, color='#1f77b4', alpha=0.4, label='original')
        plt.plot(steps, smooth(list(values)), color='#1f77b4', label='smoothed')
        plt.xlabel('step')
        plt.ylabel(key)
        plt.title(key)
        plt.legend()
        os.makedirs(images_dir, exist_ok=True)
        path = os.path.join(images_dir, f'{"train_" if key == "loss" else ""}{key}.png')
        fig.savefig(path, format='png', dpi=100)
        plt.close(fig)
        written.append(path)
    return written


class PlotLossCallback(TrainerCallback):
    """`--plot_loss`: images/train_loss.png and images/eval_loss.png at the end of training."""

    def __init__(self, output_dir: str):
        self.images_dir = os.path.join(output_dir, IMAGES_DIR)

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            plot_curves(state.log_history, self.images_dir)


def _relink(link: str, target: Optional[str]) -> None:
    if not target:
        return
    if os.path.islink(link):
        os.remove(link)
    elif os.path.exists(link):
        logger.warning(f'{link} exists and is not a symlink; not replacing it.')
        return
    os.symlink(os.path.relpath(target, os.path.dirname(link)), link)


class CheckpointSymlinkCallback(TrainerCallback):
    """`--create_checkpoint_symlink`: output_dir/last -> newest checkpoint, output_dir/best -> best checkpoint."""

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        last = os.path.join(args.output_dir, f'checkpoint-{state.global_step}')
        if os.path.isdir(last):
            _relink(os.path.join(args.output_dir, 'last'), last)
        best = state.best_model_checkpoint
        if best and os.path.isdir(best):
            _relink(os.path.join(args.output_dir, 'best'), best)


class EarlyStopCallback(TrainerCallback):
    """`--early_stop_interval N` (ms-swift's EarlyStopCallback): stop when --metric_for_best_model has not
    improved (strictly, in the --greater_is_better direction) for N evaluations in a row. ms-swift counts saves;
    counting evaluations is the same with its defaults (eval_steps = save_steps) and also works with
    --save_strategy best, which saves only on improvement. A save due at the stopping step still happens."""

    def __init__(self, interval: int):
        self.interval = interval
        self.best: Optional[float] = None
        self.stale = 0

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        key = args.metric_for_best_model or 'loss'
        key = key if key.startswith('eval_') else f'eval_{key}'
        if not metrics or key not in metrics:
            return
        value = metrics[key]
        better = self.best is None or (value > self.best if args.greater_is_better else value < self.best)
        if better:
            self.best, self.stale = value, 0
            return
        self.stale += 1
        if self.stale >= self.interval:
            logger.info(f'early stop at step {state.global_step}: {key} has not improved on {self.best:.6g} for '
                        f'{self.stale} evaluations (--early_stop_interval {self.interval}).')
            control.should_training_stop = True
