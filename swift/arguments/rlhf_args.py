"""Arguments of `swift rlhf`: TrainArguments plus the RLHF, reward-model, PPO and GRPO groups (ms-swift 3.x)."""
import math
import os
from dataclasses import dataclass, fields
from typing import List, Literal, Optional

import torch

from swift.utils import ArgumentError, get_logger
from .base_args import _default_of
from .groups import _help, _list
from .train_args import TrainArguments

RLHF_TYPES = ('dpo', 'orpo', 'simpo', 'cpo', 'kto', 'rm', 'ppo', 'grpo')
# --loss_type choices per algorithm (trl 1.16); the first is the default.
LOSS_TYPES = {
    'dpo': ('sigmoid', 'hinge', 'ipo', 'exo_pair', 'nca_pair', 'robust', 'bco_pair', 'sppo_hard', 'aot',
            'aot_unpaired', 'apo_zero', 'apo_down', 'discopop', 'sft', 'sigmoid_norm'),
    'cpo': ('sigmoid', 'hinge', 'ipo', 'simpo', 'alphapo'),
    'kto': ('kto', 'apo_zero_unpaired'),
    'grpo': ('grpo', 'dapo', 'dr_grpo', 'bnpo', 'cispo', 'sapo', 'luspo', 'vespo'),
}
logger = get_logger()
REF_MODEL_TYPES = ('dpo', 'kto', 'ppo')  # algorithms with a reference model
_TRL_VLLM = ('not supported: trl 1.16 runs GRPO\'s vLLM inside each training process (--vllm_mode colocate) or as a '
             '`trl vllm-serve` server (--vllm_mode server) and has no such knob; drop it.')
_SFT_ONLY = 'not read by swift rlhf: it applies to swift sft/pt only; drop it.'
_NO_SAMPLING = ('not read by swift rlhf: rollouts sample with --temperature, --top_k, --top_p and '
                '--repetition_penalty only; drop it.')


@dataclass
class RLHFGroup:
    group_title = 'rlhf arguments'
    rlhf_type: Literal[RLHF_TYPES] = _help('Alignment algorithm.', default='dpo')
    ref_model: Optional[str] = _help('Reference model of dpo/kto/ppo; default: --model for full-parameter training; '
                                     'with adapters the frozen base is the reference.', default=None)
    ref_model_type: Optional[str] = _help('model_type of --ref_model.', default=None)
    ref_model_revision: Optional[str] = _help('Hub revision of --ref_model.', default=None)
    ref_adapters: List[str] = _list('Adapters merged into the reference model of dpo/kto/ppo (--ref_model, default '
                                    '--model), e.g. the SFT LoRA that --adapters continues (alias '
                                    '--ref_model_adapters, LLaMA-Factory).')
    beta: Optional[float] = _help('KL coefficient; default 2.0 for simpo, 0.04 for grpo, 0.1 otherwise.',
                                  default=None)
    label_smoothing: float = _help('DPO/CPO label smoothing (conservative DPO).', default=0.)
    rpo_alpha: Optional[float] = _help('Weight of the SFT loss added to DPO (RPO); 0 or none disables.', default=1.)
    cpo_alpha: float = _help('Weight of the NLL loss in CPO/SimPO.', default=1.)
    simpo_gamma: float = _help('SimPO reward margin (0.5-1.5 in the paper).', default=1.)
    desirable_weight: float = _help('KTO weight of desirable responses.', default=1.)
    undesirable_weight: float = _help('KTO weight of undesirable responses.', default=1.)
    loss_weights: List[float] = _list('DPO: weights of the --loss_type losses combined.')


@dataclass
class RewardModelGroup:
    group_title = 'reward model arguments (ppo, grpo)'
    reward_model: Optional[str] = _help('Reward model id or path (a sequence classification head).', default=None)
    reward_adapters: List[str] = _list('Adapters of the reward model (e.g. a `--rlhf_type rm` LoRA output).')
    reward_model_type: Optional[str] = _help('model_type of --reward_model.', default=None)
    reward_model_revision: Optional[str] = _help('Hub revision of --reward_model.', default=None)


@dataclass
class PPOGroup:
    group_title = 'ppo arguments'
    num_ppo_epochs: int = _help('Optimisation epochs over each batch of rollouts.', default=4)
    whiten_rewards: bool = _help('Whiten the per-token rewards.', default=False)
    kl_coef: float = _help('KL penalty coefficient in the per-token reward.', default=0.05)
    cliprange: float = _help('Policy ratio clip range.', default=0.2)
    vf_coef: float = _help('Value loss coefficient.', default=0.1)
    cliprange_value: float = _help('Value clip range.', default=0.2)
    gamma: float = _help('Discount factor.', default=1.0)
    lam: float = _help('GAE lambda.', default=0.95)
    num_mini_batches: int = _help('Mini-batches per rollout batch.', default=1)
    local_rollout_forward_batch_size: int = _help('Batch size of rollout forward passes.', default=64)
    num_sample_generations: int = _help('Sample generations logged during training; 0 disables.', default=10)
    response_length: int = _help('Max new tokens of a rollout.', default=512)
    missing_eos_penalty: Optional[float] = _help('Subtracted from the score of a rollout without eos.',
                                                 default=None)


@dataclass
class GRPOGroup:
    group_title = 'grpo arguments'
    num_generations: int = _help('Completions per prompt (G).', default=8)
    max_completion_length: int = _help('Max new tokens of a completion.', default=512)
    ds3_gather_for_generation: bool = _help('DeepSpeed ZeRO-3: gather weights for generation.', default=True)
    reward_funcs: List[str] = _list('Reward functions: accuracy, format, cosine, repetition or plugin names.')
    reward_weights: List[float] = _list('One weight per reward function (reward model last); default all 1.')
    log_completions: bool = _help('Write the completions and rewards to output_dir/completions.jsonl.',
                                  default=False)
    use_vllm: bool = _help('Generate with vLLM (GPU only).', default=False)
    vllm_mode: Literal['colocate', 'server'] = _help(
        "ms-swift >= 3.5: 'colocate' (vLLM in each training process) or 'server' (a running `trl vllm-serve`).",
        default='colocate')
    vllm_server_host: Optional[str] = _help("--vllm_mode server: the server's host.", default=None)
    vllm_server_port: int = _help("--vllm_mode server: the server's port.", default=8000)
    vllm_tensor_parallel_size: int = _help('--vllm_mode colocate: tensor parallel size of vLLM.', default=1)
    num_infer_workers: int = _help('ms-swift 3.2 vLLM workers per node (refused: see --vllm_mode).', default=1)
    vllm_device: List[str] = _help("ms-swift 3.2 vLLM devices; 'auto' (trl places vLLM itself) is the only value "
                                   'accepted: see --vllm_mode.', default_factory=lambda: ['auto'])
    vllm_gpu_memory_utilization: float = _help('Fraction of GPU memory vLLM may use.', default=0.9)
    vllm_max_model_len: Optional[int] = _help('Max context length of vLLM (alias --vllm_max_model_length).',
                                              default=None)
    vllm_max_num_seqs: int = _help('vLLM batch size (refused: trl sizes it from the batch size).', default=256)
    vllm_enforce_eager: bool = _help('vLLM eager mode (refused: no trl knob).', default=False)
    vllm_limit_mm_per_prompt: Optional[str] = _help('vLLM multimodal limits (refused: no trl knob).', default=None)
    vllm_enable_prefix_caching: bool = _help('vLLM prefix caching (on, as vLLM does; false is refused).',
                                             default=True)
    num_iterations: int = _help('Policy updates per generation batch.', default=1)
    epsilon: float = _help('Clip coefficient.', default=0.2)
    epsilon_high: Optional[float] = _help('Upper clip coefficient (DAPO clip-higher); default --epsilon.',
                                          default=None)
    scale_rewards: Literal['group', 'batch', 'none', 'true', 'false'] = _help(
        'Advantage scaling by the reward std: group, batch or none (true = group, false = none).', default='group')
    async_generate: bool = _help('Asynchronous rollouts (refused: not supported in this version).', default=False)
    cosine_min_len_value_wrong: float = _help('cosine reward: wrong answer at length 0.', default=0.0)
    cosine_max_len_value_wrong: float = _help('cosine reward: wrong answer at max length.', default=-0.5)
    cosine_min_len_value_correct: float = _help('cosine reward: correct answer at length 0.', default=1.0)
    cosine_max_len_value_correct: float = _help('cosine reward: correct answer at max length.', default=0.5)
    cosine_max_len: Optional[int] = _help('cosine reward: max length; default --max_completion_length.',
                                          default=None)
    repetition_n_grams: int = _help('repetition reward: n-gram size.', default=3)
    repetition_max_penalty: float = _help('repetition reward: penalty when every n-gram repeats.', default=-1.0)


@dataclass
class RLHFArguments(GRPOGroup, PPOGroup, RewardModelGroup, RLHFGroup, TrainArguments):
    """Arguments of `swift rlhf`: dpo, orpo, simpo, cpo, kto, rm, ppo, grpo."""
    loss_scale: str = _help("Token loss weights; 'last_round' for alignment.", default='last_round')
    loss_type: List[str] = _list('Loss variant(s) of the algorithm (dpo: sigmoid, hinge, ipo, ...; cpo: sigmoid, '
                                 'hinge, ipo, simpo; kto: kto, apo_zero_unpaired; grpo: grpo, dapo, ...).')
    temperature: Optional[float] = _help('Sampling temperature of ppo/grpo rollouts.', default=0.9)
    top_k: Optional[int] = _help('Top-k of ppo/grpo rollouts.', default=50)
    top_p: Optional[float] = _help('Top-p of ppo/grpo rollouts.', default=0.9)
    repetition_penalty: Optional[float] = _help('Repetition penalty of ppo/grpo rollouts.', default=1.)
    rejected_fields = {
        'top_k': None, 'top_p': None, 'repetition_penalty': None,  # rollouts read these
        **{name: _NO_SAMPLING for name in ('num_beams', 'stream', 'stop_words', 'logprobs', 'top_logprobs')},
        **{name: _TRL_VLLM for name in ('num_infer_workers', 'vllm_device', 'vllm_max_num_seqs', 'vllm_enforce_eager',
                                        'vllm_limit_mm_per_prompt', 'vllm_enable_prefix_caching')},
        'padding_free': 'not supported by swift rlhf: its trl trainers pad their batches (trl 1.16 disabled '
                        'padding_free in DPO); drop it (it works for swift sft/pt).',
        'async_generate': 'not supported in this version: rollouts are generated synchronously; drop it.',
        'max_new_tokens': 'not read by swift rlhf: the rollout length is --max_completion_length (grpo) or '
                          '--response_length (ppo); drop it.',
        **{name: _SFT_ONLY for name in ('packing', 'predict_with_generate', 'sortish_sampler', 'generation_max_length',
                                        'generation_num_beams', 'generation_config', 'acc_strategy',
                                        'include_effective_tokens_per_second')},
    }

    def __post_init__(self):
        TrainArguments.__post_init__(self)
        self.scale_rewards = {'true': 'group', 'false': 'none'}.get(self.scale_rewards, self.scale_rewards)

    def validate(self):
        TrainArguments.validate(self)
        kind = self.rlhf_type
        for name in self.loss_type:
            choices = LOSS_TYPES.get('cpo' if kind == 'simpo' else kind, ())
            if name not in choices:
                hint = f'choose from {", ".join(choices)}' if choices else f'{kind} has no loss variants'
                raise ArgumentError(f'--loss_type {name} is not a {kind} loss: {hint}.')
        if self.loss_weights and len(self.loss_weights) != len(self.loss_type):
            raise ArgumentError(f'--loss_weights has {len(self.loss_weights)} values for {len(self.loss_type)} '
                                '--loss_type values: give one weight per loss.')
        for flag in ('ref_model', 'ref_adapters'):
            if getattr(self, flag) and kind not in REF_MODEL_TYPES:
                raise ArgumentError(f'--{flag} is used by {", ".join(REF_MODEL_TYPES)} only; drop it for {kind}.')
        if kind == 'ppo' and not self.reward_model:
            raise ArgumentError('--rlhf_type ppo needs --reward_model (e.g. the output of --rlhf_type rm).')
        if kind == 'grpo':
            self._validate_grpo()

    def _validate_generation(self):
        pass  # rollouts read --temperature; --max_new_tokens is in rejected_fields

    def _validate_grpo(self):
        if not self.reward_funcs and not self.reward_model:
            raise ArgumentError('--rlhf_type grpo needs --reward_funcs (accuracy, format, cosine, repetition or a '
                                'plugin) and/or --reward_model.')
        n_rewards = len(self.reward_funcs) + (1 if self.reward_model else 0)
        if self.reward_weights and len(self.reward_weights) != n_rewards:
            raise ArgumentError(f'--reward_weights has {len(self.reward_weights)} values for {n_rewards} rewards '
                                '(the --reward_funcs, then --reward_model): give one weight per reward.')
        if self.num_generations < 2:
            raise ArgumentError('--num_generations must be >= 2: GRPO compares completions of the same prompt.')
        batch = self.per_device_train_batch_size * self.gradient_accumulation_steps * _world_size()
        if batch % self.num_generations:
            raise ArgumentError(f'The generation batch (per_device_train_batch_size x gradient_accumulation_steps x '
                                f'processes = {batch}) must be a multiple of --num_generations '
                                f'{self.num_generations}: set --per_device_train_batch_size to a multiple of it.')
        if self.use_vllm and not torch.cuda.is_available():
            raise ArgumentError('--use_vllm needs a CUDA GPU: drop --use_vllm to generate with transformers.')
        for f in fields(GRPOGroup):
            if f.name.startswith('vllm_') and not self.use_vllm and getattr(self, f.name) != _default_of(f):
                raise ArgumentError(f'--{f.name} applies with --use_vllm true only; add that flag or drop this one.')
        if self.use_vllm and self.vllm_mode == 'server' and not self.vllm_server_host:
            raise ArgumentError('--vllm_mode server needs --vllm_server_host (where `trl vllm-serve` runs).')
        eval_batch = self.per_device_eval_batch_size * _world_size()
        if eval_batch % self.num_generations and self.per_device_eval_batch_size != 1 and self._will_evaluate():
            raise ArgumentError(f'GRPO evaluates whole groups: --per_device_eval_batch_size '
                                f'{self.per_device_eval_batch_size} x {_world_size()} processes must be a multiple of '
                                f'--num_generations {self.num_generations}; set --per_device_eval_batch_size to a '
                                'multiple of it (or --split_dataset_ratio 0 for no evaluation).')

    def _will_evaluate(self) -> bool:
        return bool(self.val_dataset or self.split_dataset_ratio) and self.eval_strategy != 'no'

    def _grpo_eval_batch_size(self) -> None:
        """ms-swift's default eval batch of 1 cannot hold a group: use the smallest that holds whole groups."""
        world = _world_size()
        if (self.per_device_eval_batch_size * world) % self.num_generations == 0 or not self._will_evaluate():
            return
        size = self.num_generations // math.gcd(self.num_generations, world)
        logger.info(f'GRPO evaluates whole groups of {self.num_generations} completions: '
                    f'--per_device_eval_batch_size {self.per_device_eval_batch_size} -> {size}.')
        self.per_device_eval_batch_size = size

    def resolve(self):
        TrainArguments.resolve(self)
        if self.beta is None:
            self.beta = {'simpo': 2.0, 'grpo': 0.04}.get(self.rlhf_type, 0.1)
        if self.cosine_max_len is None:
            self.cosine_max_len = self.max_completion_length
        if self.rlhf_type == 'rm' and self.num_labels is None:
            self.num_labels, self.task_type = 1, 'seq_cls'
        if self.rlhf_type == 'grpo':
            self._grpo_eval_batch_size()
        if self.rlhf_type in REF_MODEL_TYPES and self.train_type == 'full' and not self.ref_model:
            self.ref_model = self.model  # ms-swift: the frozen reference of full training is a copy of --model
            logger.info(f'Full-parameter {self.rlhf_type}: the reference model is a frozen copy of --model '
                        f'{self.model} (set --ref_model to use another).')


def _world_size() -> int:
    return int(os.environ.get('WORLD_SIZE', '1'))
