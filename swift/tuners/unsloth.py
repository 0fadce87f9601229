"""--tuner_backend unsloth: unsloth's patched LoRA / full training (CUDA only; TunerArguments refuses it on CPU).

unsloth patches the model classes when imported and wraps the model with its own get_peft_model; it supports
--train_type lora and full."""
from swift.utils import ArgumentError, get_logger
from .targets import resolve_target_modules

logger = get_logger()


def prepare_unsloth(args, model):
    if args.train_type not in ('lora', 'full'):
        raise ArgumentError(f'--tuner_backend unsloth trains --train_type lora or full, not {args.train_type}.')
    try:
        from unsloth import FastLanguageModel
    except ImportError:
        raise ArgumentError('--tuner_backend unsloth needs the unsloth package (pip install unsloth, on a CUDA '
                            'machine).') from None
    if args.train_type == 'full':
        model.requires_grad_(True)
        return FastLanguageModel.for_training(model)
    return FastLanguageModel.get_peft_model(
        model, r=args.lora_rank, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout, bias=args.lora_bias,
        target_modules=resolve_target_modules(args, model), use_rslora=args.use_rslora,
        use_gradient_checkpointing='unsloth' if args.gradient_checkpointing else False, random_state=args.seed)
