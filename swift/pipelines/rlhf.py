"""`swift rlhf`: the training flow of pipelines/train.py with an alignment row encoder and a trl trainer (our own
PPOTrainer for ppo). Reference and reward models are built here, like the policy."""
from typing import Any, Dict, List, Optional, Sequence, Union

from swift.arguments.rlhf_args import RLHFArguments
from swift.utils import ArgumentError, DatasetError, get_logger
from .base import add_vocab
from .train import SwiftTrain, optimizers_of

logger = get_logger()
PAIRED_TYPES = ('dpo', 'orpo', 'simpo', 'cpo', 'rm')


class SwiftRLHF(SwiftTrain):
    args_class = RLHFArguments
    prog = 'swift rlhf'

    def row_encoder(self, template, split: str):
        from swift.template.rlhf import rlhf_encoder
        return rlhf_encoder(self.args.rlhf_type, template)

    keep_length = False  # trl's collators read the algorithm's own columns

    def encoding(self, split: str) -> str:
        return f'rlhf:{self.args.rlhf_type}'

    def from_cached_encoding(self, encoding: str):
        """A dpo-encoded cache (`swift export --template_mode rlhf`) feeds every pairwise algorithm."""
        kind = self.args.rlhf_type
        if encoding == 'rlhf:dpo' and kind in PAIRED_TYPES and kind != 'dpo':
            from swift.template.rlhf import pair_layout
            return lambda row: pair_layout(kind, row)
        return super().from_cached_encoding(encoding)

    def check_data(self, raw_train, raw_val) -> None:
        if self.args.lazy_tokenize:
            raise ArgumentError('--lazy_tokenize true is for swift sft/pt: swift rlhf encodes its pairs up front '
                                '(a KTO pair becomes two rows); drop the flag.')
        for split, raw in (('train', raw_train), ('val', raw_val)):
            if raw is not None:
                _check_columns(self.args, raw.column_names, split)

    def build_trainer(self, model, template, train_dataset, val_dataset, overrides, callbacks):
        args = self.args
        aux = self._aux_models(template)
        if args.rlhf_type == 'ppo':
            from swift.trainers.rlhf.ppo import PPOTrainer
            return PPOTrainer(args, model, template, train_dataset, aux['reward_model'], aux.get('ref_model'),
                              callbacks=callbacks)
        from swift.trainers.rlhf.build import build_rlhf_trainer
        return build_rlhf_trainer(args, model, template, train_dataset, val_dataset, overrides, callbacks,
                                  optimizers=lambda config: optimizers_of(args, model, config, train_dataset), **aux)

    def _aux_models(self, template) -> Dict[str, Any]:
        """The frozen reference / reward models the algorithm needs (adapters merged in)."""
        args, out = self.args, {}
        if args.rlhf_type in ('ppo', 'grpo') and args.reward_model:
            out['reward_model'], out['reward_tokenizer'] = load_aux_model(
                args, args.reward_model, args.reward_model_type, args.reward_model_revision, args.reward_adapters,
                num_labels=1, task_type='seq_cls')
        if args.rlhf_type == 'ppo' and len(out['reward_tokenizer']) != len(template.tokenizer):
            raise ArgumentError(f'--reward_model {args.reward_model} has a different vocabulary from the policy: '
                                'PPO scores the policy\'s token ids, so use a reward model trained from the same '
                                'family.')
        if (args.ref_model or args.ref_adapters) and args.rlhf_type in ('dpo', 'kto', 'ppo'):
            # --ref_adapters without --ref_model: the base model plus those adapters, frozen (ms-swift >= 3.8)
            own = args.ref_model is None
            out['ref_model'], _ = load_aux_model(
                args, args.model if own else args.ref_model, args.model_type if own else args.ref_model_type,
                args.model_revision if own else args.ref_model_revision, args.ref_adapters, policy_vocab=True)
            if args.ref_adapters:
                logger.info(f'Reference model: {args.ref_model or args.model} + {" ".join(args.ref_adapters)} '
                            '(merged, frozen).')
        return out

    def print_dry_run(self, template, dataset) -> None:
        """The first encoded row decoded field by field, and token-length statistics of each field."""
        import numpy as np
        row = dataset[0]
        id_fields = [k for k, v in row.items()
                     if k.endswith('ids') and isinstance(v, list) and v and isinstance(v[0], int)]
        print(f'[dry run] one encoded {self.args.rlhf_type} row:')
        for key in id_fields:
            print(f'--- {key} ({len(row[key])} tokens)\n{template.decode(row[key], skip_special_tokens=False)}')
        if 'prompt' in row:
            print(f'--- prompt messages\n{row["prompt"]}')
        print(f'[dry run] dataset statistics: {self.train_stats}')
        for key in id_fields:
            lengths = np.array([len(ids) for ids in dataset[key]])
            p50, p90, p99 = np.percentile(lengths, [50, 90, 99])
            print(f'  {key}: min {lengths.min()}, p50 {p50:.0f}, p90 {p90:.0f}, p99 {p99:.0f}, max {lengths.max()}')


def load_aux_model(args, model_id: str, model_type: Optional[str], revision: Optional[str],
                   adapters: List[str] = (), policy_vocab: bool = False, **kwargs):
    """A frozen reference or reward model (adapters merged in), in eval mode. A reference model shares the
    policy's vocabulary (`policy_vocab`: --new_special_tokens added before its adapters load)."""
    from swift.model import get_model_tokenizer
    model, tokenizer = get_model_tokenizer(model_id, args.torch_dtype, args.device_map, model_type=model_type,
                                           revision=revision, attn_impl=args.attn_impl, use_hf=args.use_hf,
                                           hub_token=args.hub_token, **kwargs)
    if policy_vocab:
        add_vocab(args, model, tokenizer, init=False)
    from swift.tuners.adapters import merge_into_base, with_base_adapters
    model = merge_into_base(model, with_base_adapters(list(adapters)))
    model.eval().requires_grad_(False)
    return model, tokenizer


def _check_columns(args, columns: Optional[List[str]], split: str) -> None:
    """Fail early on a dataset that cannot feed the algorithm. A streamed dataset reports no columns: its rows are
    checked one by one while encoding instead."""
    if not columns:
        return
    kind = args.rlhf_type
    if kind in PAIRED_TYPES and 'rejected_response' not in columns:
        raise DatasetError(f'The {split} dataset has no rejected side: --rlhf_type {kind} needs preference rows '
                           '(chosen/rejected columns or rejected_response); for rows labelled good/bad use '
                           '--rlhf_type kto with a label column.')
    if kind == 'kto' and 'label' not in columns and 'rejected_response' not in columns:
        raise DatasetError(f'The {split} dataset has neither a label column nor a rejected side: --rlhf_type kto '
                           'needs rows with label true/false (or chosen/rejected pairs).')


def rlhf_main(args: Union[None, RLHFArguments, Sequence[str]] = None):
    return SwiftRLHF(args).run()
