"""Build the trl trainer of a `swift rlhf` run from the resolved arguments and the models the pipeline built
(swift/pipelines/rlhf.py runs it through the one training flow)."""
import dataclasses
from typing import Any, Callable, Dict, Optional

from swift.utils import get_logger

logger = get_logger()


def trl_config(args, config_cls, overrides: Dict[str, Any], **extra):
    """A trl config (a TrainingArguments subclass) holding the resolved training arguments plus `extra`."""
    base = args.training_args(**overrides)
    names = {f.name for f in dataclasses.fields(config_cls) if f.init}
    base_names = {f.name for f in dataclasses.fields(type(base)) if f.init}
    kwargs = {n: getattr(base, n) for n in names & base_names}
    kwargs['report_to'] = [r for r in args.report_to if r != 'none'] or 'none'
    kwargs.update(extra)
    return config_cls(**kwargs)


def _dpo(args, overrides):
    from trl import DPOConfig
    from .preference import DPOTrainer
    loss_type = list(args.loss_type) or ['sigmoid']
    weights = list(args.loss_weights) or None
    if args.rpo_alpha and 'sft' not in loss_type:  # RPO: DPO loss + rpo_alpha * NLL of the chosen response
        weights = (weights or [1.] * len(loss_type)) + [args.rpo_alpha]
        loss_type.append('sft')
    config = trl_config(args, DPOConfig, overrides, beta=args.beta, label_smoothing=args.label_smoothing,
                        loss_type=loss_type, loss_weights=weights, max_length=None)
    return DPOTrainer, config


def _kto(args, overrides):
    from trl import KTOConfig
    from .preference import KTOTrainer
    config = trl_config(args, KTOConfig, overrides, beta=args.beta, desirable_weight=args.desirable_weight,
                        undesirable_weight=args.undesirable_weight, loss_type=(args.loss_type or ['kto'])[0],
                        max_length=None, train_sampling_strategy='sequential')  # KL pairs are batch neighbours
    return KTOTrainer, config


def _cpo(args, overrides):
    from trl.experimental.cpo import CPOConfig
    from .preference import CPOTrainer
    loss_type = 'simpo' if args.rlhf_type == 'simpo' else (args.loss_type or ['sigmoid'])[0]
    config = trl_config(args, CPOConfig, overrides, beta=args.beta, label_smoothing=args.label_smoothing,
                        loss_type=loss_type, cpo_alpha=args.cpo_alpha, simpo_gamma=args.simpo_gamma,
                        max_length=args.max_length or 1024)
    return CPOTrainer, config


def _orpo(args, overrides):
    from trl.experimental.orpo import ORPOConfig
    from .preference import ORPOTrainer
    return ORPOTrainer, trl_config(args, ORPOConfig, overrides, beta=args.beta, max_length=args.max_length or 1024)


def _rm(args, overrides):
    from trl import RewardConfig
    from .preference import RewardTrainer
    return RewardTrainer, trl_config(args, RewardConfig, overrides, max_length=None)


def _grpo(args, overrides):
    from trl import GRPOConfig
    from .grpo import GRPOTrainer
    config = trl_config(
        args, GRPOConfig, overrides, beta=args.beta, num_generations=args.num_generations,
        max_completion_length=args.max_completion_length, temperature=args.temperature, top_k=args.top_k or 0,
        top_p=args.top_p, repetition_penalty=args.repetition_penalty, num_iterations=args.num_iterations,
        epsilon=args.epsilon, reward_weights=list(args.reward_weights) or None,
        loss_type=(args.loss_type or ['grpo'])[0], ds3_gather_for_generation=args.ds3_gather_for_generation,
        use_vllm=args.use_vllm, vllm_gpu_memory_utilization=args.vllm_gpu_memory_utilization,
        vllm_max_model_length=args.vllm_max_model_len, vllm_mode=args.vllm_mode,
        vllm_server_host=args.vllm_server_host or '0.0.0.0', vllm_server_port=args.vllm_server_port,
        vllm_tensor_parallel_size=args.vllm_tensor_parallel_size, epsilon_high=args.epsilon_high,
        scale_rewards=args.scale_rewards, log_completions=False)
    return GRPOTrainer, config


BUILDERS = {'dpo': _dpo, 'kto': _kto, 'cpo': _cpo, 'simpo': _cpo, 'orpo': _orpo, 'rm': _rm, 'grpo': _grpo}


def _grpo_kwargs(args, template, reward_model=None, reward_tokenizer=None) -> Dict[str, Any]:
    from .grpo import build_reward_func
    funcs = [build_reward_func(name, args, template.tokenizer) for name in args.reward_funcs]
    processing = [None] * len(funcs)
    if reward_model is not None:
        funcs.append(reward_model)
        processing.append(reward_tokenizer)
    return {'reward_funcs': funcs, 'reward_processing_classes': processing, 'template': template,
            'log_completions_file': args.log_completions}


def _media_collator(rlhf_type: str, template):
    """trl's collator of the algorithm plus the rows' media tensors (dpo, kto: rows encoded with their images)."""
    from swift.utils import pad_token_id
    pad = pad_token_id(template.tokenizer)
    if rlhf_type == 'kto':
        from trl.trainer.kto_trainer import DataCollatorForUnpairedPreference
        from .preference import MediaKTOCollator
        return MediaKTOCollator(DataCollatorForUnpairedPreference(pad_token_id=pad), template)
    from trl.trainer.dpo_trainer import DataCollatorForPreference
    from .preference import MediaPreferenceCollator
    return MediaPreferenceCollator(DataCollatorForPreference(pad_token_id=pad), template)


def build_rlhf_trainer(args, model, template, train_dataset, val_dataset, overrides: Dict[str, Any], callbacks,
                       optimizers: Callable[[Any], tuple], ref_model=None, reward_model=None,
                       reward_tokenizer: Optional[Any] = None):
    """The trl trainer of --rlhf_type; `optimizers(config)` gives the (optimizer, scheduler) pair."""
    trainer_cls, config = BUILDERS[args.rlhf_type](args, overrides)
    if args.rlhf_type == 'grpo':
        extra = _grpo_kwargs(args, template, reward_model, reward_tokenizer)
    else:
        extra = {'ref_model': ref_model} if ref_model is not None else {}
    if args.rlhf_type in ('dpo', 'kto') and getattr(template, 'processor', None) is not None and \
            getattr(template.tokenizer.model_meta, 'is_multimodal', False):
        extra['data_collator'] = _media_collator(args.rlhf_type, template)
    return trainer_cls(
        model=model, args=config, train_dataset=train_dataset, eval_dataset=val_dataset,
        processing_class=template.tokenizer, callbacks=callbacks, swift_args=args, optimizers=optimizers(config),
        **extra)
