"""Steps every pipeline shares: arguments in, model/tokenizer, template and datasets out."""
from typing import List, Optional, Sequence, Tuple, Type, TypeVar, Union

from swift.arguments import BaseArguments, parse_args
from swift.utils import ArgumentError, get_logger

logger = get_logger()
A = TypeVar('A', bound=BaseArguments)


def to_args(args_class: Type[A], args: Union[None, A, Sequence[str]], prog: str) -> A:
    """Accept an argument object or an argv list (None = sys.argv); validate and resolve once."""
    if not isinstance(args, BaseArguments):
        args = parse_args(args_class, args, prog=prog)
    args.validate()
    args.resolve()
    return args


def load_model_tokenizer(args: BaseArguments, load_model: bool = True, **overrides):
    from swift.model import check_model_files, get_model_tokenizer, get_quantization_config
    if load_model and getattr(args, 'check_model', False):  # training's --check_model
        check_model_files(args.model)
    quantization_config = None
    if args.quant_method:
        quantization_config = get_quantization_config(
            args.quant_method, args.quant_bits, bnb_4bit_compute_dtype=args.bnb_4bit_compute_dtype,
            bnb_4bit_quant_type=args.bnb_4bit_quant_type, bnb_4bit_use_double_quant=args.bnb_4bit_use_double_quant,
            bnb_4bit_quant_storage=args.bnb_4bit_quant_storage, hqq_axis=args.hqq_axis, torch_dtype=args.torch_dtype)
    kwargs = dict(
        model_type=args.model_type, load_model=load_model, attn_impl=args.attn_impl,
        quantization_config=quantization_config, model_kwargs=args.model_kwargs, rope_scaling=args.rope_scaling,
        max_memory=args.max_memory, num_labels=args.num_labels, task_type=args.task_type, use_hf=args.use_hf,
        hub_token=args.hub_token, revision=args.model_revision)
    kwargs.update(overrides)
    model, tokenizer = get_model_tokenizer(args.model, args.torch_dtype, args.device_map, **kwargs)
    add_vocab(args, model, tokenizer)
    # Record what was resolved so args.json reproduces it (infer/export/--adapters read it back).
    args.model_type = args.model_type or tokenizer.model_info.model_type
    return model, tokenizer


def add_vocab(args: BaseArguments, model, tokenizer, init: bool = True) -> None:
    """--new_special_tokens (and training's --resize_vocab): the same tokens get the same ids in training, infer and
    export (args.json carries them); training also initialises the new rows (--init_special_tokens)."""
    from swift.model.new_tokens import add_new_tokens, init_new_embeddings
    resize = getattr(args, 'resize_vocab', False)
    if not (args.new_special_tokens or resize):
        return
    new_ids = add_new_tokens(model, tokenizer, args.new_special_tokens, resize=resize)
    if model is not None and init and resize:  # training (inference loads the trained rows from the adapter)
        init_new_embeddings(model, tokenizer, new_ids, args.init_special_tokens, args.token_descriptions)


def build_template(args: BaseArguments, tokenizer, mode: str = 'train'):
    from swift.template import get_template
    template_type = args.template or tokenizer.model_meta.template
    template = get_template(
        template_type, tokenizer, default_system=args.system, max_length=args.max_length,
        truncation_strategy=args.truncation_strategy, loss_scale=args.loss_scale,
        use_chat_template=args.use_chat_template, padding_side=args.padding_side,
        template_backend=args.template_backend, tools_prompt=args.tools_prompt, max_pixels=args.max_pixels,
        enable_thinking=args.enable_thinking)
    if args.max_pixels is not None and not getattr(tokenizer.model_meta, 'is_multimodal', False):
        raise ArgumentError(f'--max_pixels {args.max_pixels}: applies to multimodal models (images); '
                            f'{args.model} is text-only, drop it.')
    template.set_mode(mode)
    args.template = template_type
    return template


def load_datasets(args: BaseArguments, datasets: Optional[List[str]] = None,
                  origins: bool = False) -> Tuple[object, Optional[object]]:
    """Training and validation datasets of canonical rows: --val_dataset if given, else a split of --dataset.
    `origins`: rows carry their file and line to encoding (for commands that pass them to encode_dataset)."""
    from swift.dataset import load_dataset
    common = dict(
        seed=args.data_seed, num_proc=args.dataset_num_proc, streaming=args.streaming, use_hf=args.use_hf,
        hub_token=args.hub_token, strict=args.strict, columns=args.columns, model_name=args.model_name or None,
        model_author=args.model_author or None, download_mode=args.download_mode, origins=origins)
    datasets = args.dataset if datasets is None else datasets
    ratio = 0. if args.val_dataset or args.streaming else args.split_dataset_ratio
    # The mix applies to the --dataset entries only (ms-swift: not to --val_dataset).
    mix_strategy, probs = args.mixing() if list(datasets) == list(args.dataset) else ('concat', None)
    train, val = load_dataset(datasets, split_dataset_ratio=ratio, mix_strategy=mix_strategy,
                              interleave_probs=probs, **common)
    if args.val_dataset:
        val, _ = load_dataset(args.val_dataset, split_dataset_ratio=0., **common)
    return train, val
