"""`swift sft` / `swift pt`: model -> template -> datasets -> tuner -> trainer -> outputs."""
from typing import Sequence, Union

from swift.arguments import PtArguments, SftArguments
from swift.utils import get_logger
from .base import build_template, load_datasets, load_model_tokenizer, to_args

logger = get_logger()


class SwiftSft:
    args_class = SftArguments
    prog = 'swift sft'

    def __init__(self, args: Union[None, SftArguments, Sequence[str]] = None):
        self.args = to_args(self.args_class, args, self.prog)

    def run(self):
        args = self.args
        model, tokenizer = load_model_tokenizer(args, load_model=not args.dry_run)
        template = build_template(args, tokenizer, mode='train')
        train_dataset, val_dataset = self._encode(template)
        if args.dry_run:
            return None
        from .train import train
        return train(args, model, template, train_dataset, val_dataset)

    def _encode(self, template):
        from swift.dataset import encode_dataset
        args = self.args
        raw_train, raw_val = load_datasets(args)
        opts = dict(num_proc=args.dataset_num_proc, strict=args.strict, lazy=args.lazy_tokenize)
        train_dataset, stats = encode_dataset(raw_train, template, **opts)
        logger.info(f'train dataset: {stats}')
        val_dataset = None
        if raw_val is not None:
            val_dataset, val_stats = encode_dataset(raw_val, template, **opts)
            logger.info(f'val dataset: {val_stats}')
        if args.dry_run:
            self._print_dry_run(template, train_dataset, stats)
            _print_memory_estimate(args, template, train_dataset)
        return train_dataset, val_dataset

    @staticmethod
    def _print_dry_run(template, dataset, stats):
        example = dataset[0]
        print('[dry run] one encoded training example (tokens that carry loss are highlighted):')
        print(template.render_example(example))
        print(f'[dry run] input_ids: {len(example["input_ids"])} tokens, '
              f'{sum(1 for x in example["labels"] if x != -100)} with loss')
        print(f'[dry run] dataset statistics:\n{stats}')


def _print_memory_estimate(args, template, dataset) -> None:
    from transformers import AutoConfig
    from swift.distributed.memory import estimate_for_args
    config = AutoConfig.from_pretrained(template.tokenizer.model_info.model_dir)
    longest = max(len(row['input_ids']) for row in dataset)
    print(estimate_for_args(args, config, longest).describe())


class SwiftPt(SwiftSft):
    args_class = PtArguments
    prog = 'swift pt'


def sft_main(args: Union[None, SftArguments, Sequence[str]] = None):
    return SwiftSft(args).run()


def pt_main(args: Union[None, PtArguments, Sequence[str]] = None):
    return SwiftPt(args).run()
