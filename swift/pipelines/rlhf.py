"""`swift rlhf`: model -> template -> datasets encoded for the algorithm -> tuner -> trl trainer -> outputs.

The model, template, dataset and tuner steps are the ones `swift sft` uses (pipelines/base.py, pipelines/train.py).
"""
from typing import Any, Callable, Dict, List, Sequence, Union

from swift.arguments.rlhf_args import RLHFArguments
from swift.utils import DatasetError, TemplateError, get_logger
from .base import build_template, load_datasets, load_model_tokenizer, to_args

logger = get_logger()
PAIRED_TYPES = ('dpo', 'orpo', 'simpo', 'cpo', 'rm')


class SwiftRLHF:
    args_class = RLHFArguments
    prog = 'swift rlhf'

    def __init__(self, args: Union[None, RLHFArguments, Sequence[str]] = None):
        self.args = to_args(self.args_class, args, self.prog)

    def run(self):
        args = self.args
        model, tokenizer = load_model_tokenizer(args, load_model=not args.dry_run)
        template = build_template(args, tokenizer, mode='train')
        raw_train, raw_val = load_datasets(args)
        train_dataset = encode_for_rlhf(args, template, raw_train, 'train')
        val_dataset = None if raw_val is None else encode_for_rlhf(args, template, raw_val, 'val')
        if args.dry_run:
            _print_dry_run(args.rlhf_type, template, train_dataset)
            return None
        if args.rlhf_type == 'ppo':
            from swift.trainers.rlhf.ppo import train_ppo
            return train_ppo(args, model, template, train_dataset)
        from swift.trainers.rlhf.build import train_rlhf
        return train_rlhf(args, model, template, train_dataset, val_dataset)


def _print_dry_run(rlhf_type: str, template, dataset) -> None:
    """The first encoded row decoded field by field, and token-length statistics of each field."""
    import numpy as np
    row = dataset[0]
    id_fields = [k for k, v in row.items() if k.endswith('ids') and isinstance(v, list) and v and isinstance(v[0], int)]
    print(f'[dry run] one encoded {rlhf_type} row:')
    for key in id_fields:
        print(f'--- {key} ({len(row[key])} tokens)\n{template.decode(row[key], skip_special_tokens=False)}')
    print(f'[dry run] dataset statistics: {len(dataset)} rows')
    for key in id_fields:
        lengths = np.array([len(ids) for ids in dataset[key]])
        p50, p90, p99 = np.percentile(lengths, [50, 90, 99])
        print(f'  {key}: min {lengths.min()}, p50 {p50:.0f}, p90 {p90:.0f}, p99 {p99:.0f}, max {lengths.max()}')


def _row_encoder(args, template, columns: List[str]) -> Callable[[Dict[str, Any]], List[Dict[str, Any]]]:
    from swift.template import rlhf as enc
    from swift.trainers.rlhf.preference import legacy_pair_columns
    kind = args.rlhf_type
    if kind in ('dpo', 'cpo', 'simpo', 'orpo', 'rm'):
        def pair(row):
            out = enc.encode_preference(template, row)
            if kind in ('cpo', 'simpo', 'orpo'):
                return [legacy_pair_columns(out)]
            if kind == 'rm':
                return [{'chosen_ids': out['prompt_ids'] + out['chosen_ids'],
                         'rejected_ids': out['prompt_ids'] + out['rejected_ids']}]
            return [out]
        return pair
    if kind == 'kto':
        if 'label' in columns:
            return lambda row: [enc.encode_kto(template, row)]
        return lambda row: enc.encode_kto_from_preference(template, row)
    if kind == 'ppo':
        return lambda row: [{'prompt_ids': enc.encode_prompt(template, {**row, 'messages': enc.prompt_messages(row)})}]

    def grpo(row):  # trl needs the messages; the other columns go to the reward functions
        messages = enc.prompt_messages(row)
        enc.encode_prompt(template, {**row, 'messages': messages})  # fails early (and is counted) when too long
        extra = {k: v for k, v in row.items() if k not in ('messages', 'rejected_response')}
        return [{'prompt': messages, **extra}]
    return grpo


def _check_columns(args, columns: List[str], split: str) -> None:
    kind = args.rlhf_type
    if kind in PAIRED_TYPES and 'rejected_response' not in columns:
        raise DatasetError(f'The {split} dataset has no rejected side: --rlhf_type {kind} needs preference rows '
                           '(chosen/rejected columns or rejected_response); for rows labelled good/bad use '
                           '--rlhf_type kto with a label column.')
    if kind == 'kto' and 'label' not in columns and 'rejected_response' not in columns:
        raise DatasetError(f'The {split} dataset has neither a label column nor a rejected side: --rlhf_type kto '
                           'needs rows with label true/false (or chosen/rejected pairs).')


def encode_for_rlhf(args, template, dataset, split: str = 'train'):
    """Encode canonical rows into the algorithm's row format; unusable rows are dropped and counted."""
    import datasets as hf_datasets
    from swift.dataset.encode import EncodeStats, drop_reason
    columns = list(dataset.column_names or [])
    _check_columns(args, columns, split)
    encode = _row_encoder(args, template, columns)
    stats, rows = EncodeStats(rows_in=len(dataset)), []
    for index, row in enumerate(dataset):
        try:
            encoded = encode(row)
        except TemplateError as error:
            if args.strict:
                raise DatasetError(f'{split} row {index + 1}: {error} (run without --strict to drop and count such '
                                   'rows)') from error
            stats.drop(drop_reason(error))
            continue
        for out in encoded:
            stats.add(sum(len(v) for k, v in out.items() if k.endswith('_ids') and isinstance(v, list)))
        rows += encoded
    logger.info(f'{split} dataset ({args.rlhf_type}): {stats}')
    if not rows:
        raise DatasetError(f'No {split} row could be encoded for {args.rlhf_type}: {stats}'.replace('\n', '; '))
    return hf_datasets.Dataset.from_list(rows)


def rlhf_main(args: Union[None, RLHFArguments, Sequence[str]] = None):
    return SwiftRLHF(args).run()
