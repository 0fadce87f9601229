"""Build and run the trl trainer of a `swift rlhf` run, reusing the sft training steps (seed, tuner, callbacks,
device overrides, resume, final checkpoint, summary) from swift/pipelines/train.py."""
import dataclasses
from typing import Any, Dict, List, Optional

from transformers import set_seed

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


def load_aux_model(args, model_id: str, model_type: Optional[str], revision: Optional[str],
                   adapters: List[str] = (), **kwargs):
    """A frozen reference or reward model (adapters merged in), in eval mode."""
    from swift.model import get_model_tokenizer
    model, tokenizer = get_model_tokenizer(model_id, args.torch_dtype, args.device_map, model_type=model_type,
                                           revision=revision, attn_impl=args.attn_impl, use_hf=args.use_hf,
                                           hub_token=args.hub_token, **kwargs)
    for adapter in adapters:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    model.eval().requires_grad_(False)
    return model, tokenizer


def _grpo_kwargs(args, template) -> Dict[str, Any]:
    from .grpo import build_reward_func
    funcs = [build_reward_func(name, args, template.tokenizer) for name in args.reward_funcs]
    processing = [None] * len(funcs)
    if args.reward_model:
        reward_model, reward_tokenizer = load_aux_model(
            args, args.reward_model, args.reward_model_type, args.reward_model_revision, args.reward_adapters,
            num_labels=1, task_type='seq_cls')
        funcs.append(reward_model)
        processing.append(reward_tokenizer)
    return {'reward_funcs': funcs, 'reward_processing_classes': processing, 'template': template,
            'log_completions_file': args.log_completions}


def _trainer_kwargs(args, template) -> Dict[str, Any]:
    if args.rlhf_type == 'grpo':
        return _grpo_kwargs(args, template)
    if args.ref_model and args.rlhf_type in ('dpo', 'kto'):
        ref_model, _ = load_aux_model(args, args.ref_model, args.ref_model_type, args.ref_model_revision)
        return {'ref_model': ref_model}
    return {}


def train_rlhf(args, model, template, train_dataset, val_dataset) -> Dict[str, Any]:
    from swift.pipelines import train as sft_steps
    from swift.trainers import check_report_to
    from swift.tuners import get_trainable_summary, prepare_model
    check_report_to(args.report_to)
    sft_steps._check_plugins(args)
    set_seed(args.seed)
    model = prepare_model(args, model)
    trainable = get_trainable_summary(model)
    sft_steps._enable_input_grads(args, model)
    overrides = sft_steps._device_overrides(args)
    if val_dataset is None and args.eval_strategy != 'no':
        overrides['eval_strategy'] = 'no'
    trainer_cls, config = BUILDERS[args.rlhf_type](args, overrides)
    trainer = trainer_cls(
        model=model, args=config, train_dataset=train_dataset, eval_dataset=val_dataset,
        processing_class=template.tokenizer, callbacks=sft_steps._callbacks(args, model), swift_args=args,
        optimizers=sft_steps._optimizers(args, model, config), **_trainer_kwargs(args, template))
    if trainer.is_world_process_zero():
        args.save_args(args.output_dir)
    logger.info(f'output_dir: {args.output_dir}')
    trainer.train(resume_from_checkpoint=sft_steps._resume(args, trainer))
    result = {
        'output_dir': args.output_dir,
        'last_model_checkpoint': sft_steps._final_checkpoint(args, trainer),
        'best_model_checkpoint': trainer.state.best_model_checkpoint,
        'log_history': trainer.state.log_history,
        'trainer': trainer,
    }
    if trainer.is_world_process_zero():
        sft_steps._print_summary(args, trainable, result)
    return result
