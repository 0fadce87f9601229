"""Trainers: the Seq2SeqTrainer subclass behind `swift sft`/`swift pt`, its loss, metrics and callbacks."""
from .callbacks import (CheckpointSymlinkCallback, LoggingJsonlCallback, PlotLossCallback, check_report_to,
                        plot_curves)
from .loss import accuracy_counts, causal_lm_loss, check_loss_type
from swift.utils.nlg_metrics import bleu4, nlg_scores, rouge_l
from .trainer import Seq2SeqTrainer, disk_full_as_swift_error
