"""prepare_model: the one entry point from the pipelines into the tuners."""
from swift.arguments.tuner_args import SUPPORTED_TRAIN_TYPES, parse_init_weights
from swift.utils import ArgumentError, get_logger
from .adapters import is_adapter_dir, load_adapter_for_training, remember_initial_adapter
from .full import prepare_full
from .llamapro import prepare_llamapro
from .peft_tuners import PEFT_CONFIGS, prepare_peft
from .summary import get_trainable_summary

logger = get_logger()


def prepare_model(args, model):
    """Attach the tuner chosen by `args.train_type` to `model` (or continue a saved adapter) and return the model
    to train.

    `args` carries the TunerArguments fields plus `train_type`, `adapters` and `resume_from_checkpoint`.
    peft tuners return a PeftModel; 'full' and 'llamapro' return the (expanded) transformers model.
    """
    train_type = args.train_type
    from swift.plugin import tuners
    if train_type in tuners:
        model = tuners.get(train_type).prepare_model(args, model)
        logger.info(f'{train_type} (plugin): {get_trainable_summary(model)}')
        return model
    if train_type not in SUPPORTED_TRAIN_TYPES:
        raise ArgumentError(f'--train_type {train_type} is not supported yet in this version; '
                            f'supported: {", ".join(SUPPORTED_TRAIN_TYPES)}.')
    adapters = list(getattr(args, 'adapters', None) or [])
    if train_type in PEFT_CONFIGS:
        model = _prepare_peft_or_continue(args, model, adapters)
    else:
        if adapters:
            raise ArgumentError(f'--adapters cannot be trained further with --train_type {train_type}; merge them '
                                'first (swift export --merge_lora true) and pass the merged model as --model.')
        model = prepare_full(args, model) if train_type == 'full' else prepare_llamapro(args, model)
    logger.info(f'{train_type}: {get_trainable_summary(model)}')
    return model


def _prepare_peft_or_continue(args, model, adapters):
    resume = getattr(args, 'resume_from_checkpoint', None)
    if is_adapter_dir(resume):
        # Rebuild the exact adapter of the checkpoint (targets, rank pattern); the trainer restores the rest.
        return load_adapter_for_training(model, resume)
    if len(adapters) > 1:
        raise ArgumentError(f'Training continues one adapter at a time, got --adapters {" ".join(adapters)}; '
                            'merge the others into the model first (swift export --merge_lora true).')
    if adapters:
        return load_adapter_for_training(model, adapters[0])
    model = prepare_peft(args, model)
    if str(parse_init_weights(args.init_weights)).startswith('pissa_niter'):
        remember_initial_adapter(model)
    return model
