"""prepare_model: the one entry point from the pipelines into the tuners."""
from swift.arguments.base_args import TRAIN_TYPES
from swift.arguments.tuner_args import parse_init_weights
from swift.utils import ArgumentError, get_logger
from .adapter import prepare_adapter
from .adapters import (is_adapter_dir, load_adapter_for_training, merge_into_base, remember_initial_adapter,
                       with_base_adapters)
from .full import prepare_full
from .hooked import hook_tuner_type, load_hook_tuner
from .llamapro import prepare_llamapro
from .peft_tuners import PEFT_CONFIGS, prepare_peft
from .reft import prepare_reft
from .summary import get_trainable_summary

logger = get_logger()
HOOK_PREPARE = {'adapter': prepare_adapter, 'reft': prepare_reft}


def prepare_model(args, model, template=None, train_dataset=None):
    """Attach the tuner chosen by `args.train_type` to `model` (or continue a saved adapter) and return the model
    to train.

    `args` carries the TunerArguments fields plus `train_type`, `adapters` and `resume_from_checkpoint`.
    `template` and the encoded `train_dataset` feed LoRA-GA's gradient estimate (--init_weights lora-ga).
    peft tuners return a PeftModel; 'full' and 'llamapro' return the (expanded) transformers model, 'adapter'
    and 'reft' the transformers model with hooked modules.
    """
    train_type = args.train_type
    from swift.plugin import tuners
    if train_type in tuners:
        model = tuners.get(train_type).prepare_model(args, model)
        logger.info(f'{train_type} (plugin): {get_trainable_summary(model)}')
        return model
    if train_type not in TRAIN_TYPES:
        raise ArgumentError(f'--train_type {train_type} is unknown; choose one of: {", ".join(TRAIN_TYPES)}'
                            ' (or register a tuner plugin).')
    if getattr(args, 'tuner_backend', 'peft') == 'unsloth':
        from .unsloth import prepare_unsloth
        return prepare_unsloth(args, model)
    adapters = list(getattr(args, 'adapters', None) or [])
    if train_type in PEFT_CONFIGS:
        model = _prepare_peft_or_continue(args, model, adapters, template, train_dataset)
        if train_type == 'longlora':
            from .longlora import use_s2_attention
            use_s2_attention(model)
    elif train_type in HOOK_PREPARE:
        model = _prepare_hooked_or_continue(args, model, adapters)
    else:
        if adapters:
            raise ArgumentError(f'--adapters cannot be trained further with --train_type {train_type}; merge them '
                                'first (swift export --merge_lora true) and pass the merged model as --model.')
        model = prepare_full(args, model) if train_type == 'full' else prepare_llamapro(args, model)
    logger.info(f'{train_type}: {get_trainable_summary(model)}')
    return model


def _prepare_hooked_or_continue(args, model, adapters):
    if args.modules_to_save:
        raise ArgumentError(f'--modules_to_save does not apply to --train_type {args.train_type}; remove it.')
    resume = getattr(args, 'resume_from_checkpoint', None)
    saved = resume if hook_tuner_type(resume) else (adapters[0] if adapters else None)
    if len(adapters) > 1 or (saved and not hook_tuner_type(saved)):
        raise ArgumentError(f'--train_type {args.train_type} continues one {args.train_type} directory, got '
                            f'{saved or " ".join(adapters)}.')
    if saved:
        return load_hook_tuner(model, saved, is_trainable=True)
    return HOOK_PREPARE[args.train_type](args, model)


def _prepare_peft_or_continue(args, model, adapters, template, train_dataset):
    if getattr(args, 'create_new_adapter', False):  # LLaMA-Factory: previous adapters become part of the base
        model = merge_into_base(model, with_base_adapters(adapters))
        adapters = []
    resume = getattr(args, 'resume_from_checkpoint', None)
    if is_adapter_dir(resume):
        # Rebuild the exact adapter of the checkpoint (targets, rank pattern); the trainer restores the rest.
        return load_adapter_for_training(model, resume)
    if len(adapters) > 1:
        raise ArgumentError(f'Training continues one adapter at a time, got --adapters {" ".join(adapters)}; '
                            'merge the others into the model first (swift export --merge_lora true).')
    if adapters:
        return load_adapter_for_training(model, adapters[0])
    init = str(parse_init_weights(args.init_weights))
    grads = None
    if init == 'lora_ga':
        from .lora_ga import estimate_gradients
        grads = estimate_gradients(args, model, template, train_dataset)
    model = prepare_peft(args, model)
    if grads is not None:
        from .lora_ga import apply_lora_ga
        apply_lora_ga(args, model, grads)
    if init.startswith('pissa_niter') or init == 'lora_ga':
        remember_initial_adapter(model)  # saved converted to plain LoRA on the original weights
    return model
