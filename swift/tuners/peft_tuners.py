"""peft configs built from TunerArguments: lora (DoRA, rsLoRA, PiSSA, OLoRA, LoRA-GA init), longlora, adalora,
vera, boft, fourierft."""
import torch
from peft import AdaLoraConfig, BOFTConfig, FourierFTConfig, LoraConfig, TaskType, VeraConfig, get_peft_model

from swift.arguments.tuner_args import parse_init_weights
from swift.utils import ArgumentError, get_logger
from .targets import resolve_target_modules

logger = get_logger()
_DTYPES = {'float16': torch.float16, 'fp16': torch.float16, 'bfloat16': torch.bfloat16, 'bf16': torch.bfloat16,
           'float32': torch.float32, 'fp32': torch.float32}


def _common(args, model) -> dict:
    return {'target_modules': resolve_target_modules(args, model), 'modules_to_save': _modules_to_save(args, model),
            'task_type': _task_type(model)}


def _modules_to_save(args, model):
    """--modules_to_save, plus the input/output embeddings with --resize_vocab (new tokens: LLaMA-Factory adds
    them the same way), so their new rows are trained and saved with the adapter."""
    from swift.model.new_tokens import embedding_module_names
    modules = list(args.modules_to_save)
    if getattr(args, 'resize_vocab', False):
        added = [m for m in embedding_module_names(model) if m not in modules]
        if added:
            logger.info(f'--resize_vocab: training {", ".join(added)} in full next to the adapter (modules_to_save).')
        modules += added
    if _ties_embeddings(model, modules) and args.train_type not in ('lora', 'longlora', 'adalora'):
        raise ArgumentError(f'--train_type {args.train_type} cannot keep the tied input/output embeddings of this '
                            'model tied while training them; use --train_type lora or full.')
    return modules or None


def _ties_embeddings(model, modules) -> bool:
    from swift.model.new_tokens import embedding_module_names
    output = model.get_output_embeddings()
    tied = output is not None and output.weight is model.get_input_embeddings().weight
    return tied and any(m in embedding_module_names(model) for m in modules)


def _weight_tying(model, common: dict) -> dict:
    """peft >= 0.18 `ensure_weight_tying`: the trained copy of a tied embedding also serves as the lm_head."""
    return {'ensure_weight_tying': True} if _ties_embeddings(model, common['modules_to_save'] or []) else {}


def _task_type(model):
    task = getattr(getattr(model, 'model_info', None), 'task_type', None)
    return TaskType.SEQ_CLS if task == 'seq_cls' else TaskType.CAUSAL_LM


def _lora_config(args, model):
    init = parse_init_weights(args.init_weights)
    common = _common(args, model)
    if args.train_type == 'longlora':  # LongLoRA also trains embeddings and norms in full
        from .longlora import trainable_modules
        common['modules_to_save'] = sorted(set(common['modules_to_save'] or []) | set(trainable_modules(model)))
    return LoraConfig(r=args.lora_rank, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
                      bias=args.lora_bias, use_dora=args.use_dora, use_rslora=args.use_rslora,
                      init_lora_weights=True if init == 'lora_ga' else init, **_weight_tying(model, common), **common)


def _adalora_config(args, model):
    total_step = _total_step(args)
    if args.adalora_tinit + args.adalora_tfinal >= total_step:
        raise ArgumentError(f'AdaLoRA needs --adalora_tinit + --adalora_tfinal < total steps ({total_step}); '
                            'lower them or train longer.')
    return AdaLoraConfig(target_r=args.adalora_target_r, init_r=args.adalora_init_r, tinit=args.adalora_tinit,
                         tfinal=args.adalora_tfinal, deltaT=args.adalora_deltaT, beta1=args.adalora_beta1,
                         beta2=args.adalora_beta2, orth_reg_weight=args.adalora_orth_reg_weight,
                         total_step=total_step, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout,
                         bias=args.lora_bias, use_rslora=args.use_rslora,
                         init_lora_weights=parse_init_weights(args.init_weights), **_with_tying(args, model))


def _with_tying(args, model) -> dict:
    common = _common(args, model)
    return {**common, **_weight_tying(model, common)}


def _total_step(args) -> int:
    """AdaLoRA's schedule needs the number of optimizer steps: --max_steps, or `total_step` set by the pipeline."""
    total = getattr(args, 'total_step', None) or getattr(args, 'max_steps', None)
    if not total or total <= 0:
        raise ArgumentError('--train_type adalora needs the number of training steps: pass --max_steps.')
    return int(total)


def _vera_config(args, model):
    return VeraConfig(r=args.vera_rank, save_projection=args.vera_projection_prng_key,
                      vera_dropout=args.vera_dropout, d_initial=args.vera_d_initial, **_common(args, model))


def _boft_config(args, model):
    block_size = 0 if args.boft_block_num else args.boft_block_size
    return BOFTConfig(boft_block_size=block_size, boft_block_num=args.boft_block_num,
                      boft_n_butterfly_factor=args.boft_n_butterfly_factor, boft_dropout=args.boft_dropout,
                      **_common(args, model))


def _fourierft_config(args, model):
    return FourierFTConfig(n_frequency=args.fourier_n_frequency, scaling=args.fourier_scaling,
                           **_common(args, model))


PEFT_CONFIGS = {'lora': _lora_config, 'longlora': _lora_config, 'adalora': _adalora_config, 'vera': _vera_config,
                'boft': _boft_config, 'fourierft': _fourierft_config}


def prepare_peft(args, model):
    config = PEFT_CONFIGS[args.train_type](args, model)
    try:
        model = get_peft_model(model, config)
    except ValueError as e:  # peft's messages name the bad target or size; keep them, on one line
        raise ArgumentError(f'--train_type {args.train_type}: {" ".join(str(e).split())}') from None
    if args.train_type in ('lora', 'longlora') and args.lora_dtype is not None:
        cast_lora_weights(model, _DTYPES[args.lora_dtype])
    return model


def cast_lora_weights(model, dtype: torch.dtype):
    """Keep the LoRA matrices (and DoRA magnitudes) in `dtype` whatever the base model's dtype."""
    for name, param in model.named_parameters():
        if 'lora_' in name:
            param.data = param.data.to(dtype)
