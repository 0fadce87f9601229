"""`swift sft` / `swift pt`: the training flow of pipelines/train.py with the Seq2SeqTrainer."""
from typing import Sequence, Union

from swift.arguments import PtArguments, SftArguments
from swift.utils import ArgumentError
from .train import SwiftTrain, optimizers_of


class SwiftSft(SwiftTrain):
    args_class = SftArguments
    prog = 'swift sft'

    def row_encoder(self, template, split: str):
        from swift.dataset.encode import sft_encoder
        if split == 'val' and self.args.predict_with_generate:
            from swift.trainers.generate import generation_encoder
            return generation_encoder(template)
        return sft_encoder(template)

    def encoding(self, split: str) -> str:
        return 'generation' if split == 'val' and self.args.predict_with_generate else 'sft'

    def build_trainer(self, model, template, train_dataset, val_dataset, overrides, callbacks):
        from swift.plugin.metric import get_metric
        from swift.trainers import Seq2SeqTrainer, check_loss_type
        args = self.args
        train_dataset, val_dataset, collator = _datasets_and_collator(args, template, train_dataset, val_dataset)
        compute_metrics, preprocess = get_metric(args.metric)
        training_args = args.training_args(**overrides)
        return Seq2SeqTrainer(
            model=model, args=training_args, data_collator=collator, train_dataset=train_dataset,
            eval_dataset=val_dataset, processing_class=template.tokenizer, callbacks=callbacks, swift_args=args,
            template=template, loss_func=check_loss_type(args.loss_type),
            optimizers=optimizers_of(args, model, training_args, train_dataset), compute_metrics=compute_metrics,
            preprocess_logits_for_metrics=preprocess)

    def print_dry_run(self, template, dataset) -> None:
        example = _example(dataset)
        print('[dry run] one encoded training example (tokens that carry loss are highlighted):')
        print(template.render_example(example))
        print(f'[dry run] input_ids: {len(example["input_ids"])} tokens, '
              f'{sum(1 for x in example["labels"] if x != -100)} with loss')
        for line in getattr(template, 'media_summary', lambda _: [])(example):
            print(f'[dry run] {line}')
        print(f'[dry run] dataset statistics:\n{self.train_stats}')
        _print_memory_estimate(self.args, template, dataset)


def _example(dataset) -> dict:
    """The first row; with images in the data, the first of the first 100 rows that has some."""
    rows = (dataset[i] for i in range(min(len(dataset), 100)))
    return next((r for r in rows if r.get('pixel_values') is not None or r.get('pixel_values_videos') is not None),
                dataset[0])


def _datasets_and_collator(args, template, train_dataset, val_dataset):
    if args.predict_with_generate:
        if args.packing:
            raise ArgumentError('--predict_with_generate cannot score packed samples: drop --packing.')
        from swift.trainers.generate import GenerationCollator
        return train_dataset, val_dataset, GenerationCollator(template)
    if not args.packing:
        if args.padding_free:
            from swift.template.packing import PaddingFreeCollator
            return train_dataset, val_dataset, PaddingFreeCollator.from_template(template)
        return train_dataset, val_dataset, template.data_collator
    import torch
    from swift.template.packing import IterablePackedDataset, PackedDataset, PackingCollator, packing_length
    if args.lazy_tokenize:
        raise ArgumentError('--packing needs every sample\'s length up front: drop --lazy_tokenize.')
    length = packing_length(args.max_length, template)

    def pack(dataset):
        if dataset is None:
            return None
        if isinstance(dataset, torch.utils.data.IterableDataset) or not hasattr(dataset, '__len__'):
            return IterablePackedDataset(dataset, length, seed=args.data_seed)
        return PackedDataset(dataset, length)
    return pack(train_dataset), pack(val_dataset), PackingCollator.from_template(template)


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
