"""TunerArguments: the "Tuner" group of ms-swift 3.x (names and defaults kept so its command lines parse).

Fields of features this version does not implement (GaLore, LISA, ReFT, LoRA-GA, unsloth, liger) are declared so
that the parser accepts them, and `validate()` rejects any non-default value instead of ignoring it.
"""
import re
from dataclasses import dataclass, fields
from typing import List, Optional

from swift.utils import ArgumentError
from .groups import _help, _list

SUPPORTED_TRAIN_TYPES = ('lora', 'full', 'adalora', 'llamapro', 'vera', 'boft', 'fourierft')
# ms-swift's train_type values; the ones not supported here are rejected by name.
KNOWN_TRAIN_TYPES = SUPPORTED_TRAIN_TYPES + ('longlora', 'adapter', 'reft')
LORA_INIT_WEIGHTS = ('true', 'false', 'gaussian', 'pissa', 'pissa_niter_<N>', 'olora', 'orthogonal')
LORA_DTYPES = ('float16', 'bfloat16', 'float32', 'fp16', 'bf16', 'fp32')
# Field-name prefixes of features this version declares but does not implement.
_UNSUPPORTED_FIELDS = {'galore_': 'GaLore', 'use_galore': 'GaLore', 'lisa_': 'LISA', 'reft_': 'ReFT',
                       'lora_ga_': 'LoRA-GA', 'use_liger': 'liger-kernel'}


@dataclass
class TunerArguments:
    group_title = 'tuner arguments'
    # Multimodal parts (no effect on text-only models).
    freeze_llm: bool = _help('Multimodal only: freeze the LLM (full) or add no tuner to it (all-linear).',
                             default=False)
    freeze_vit: bool = _help('Multimodal only: freeze the vision tower (full) or add no tuner to it.', default=True)
    freeze_aligner: bool = _help('Multimodal only: freeze the aligner/projector (full) or add no tuner to it.',
                                 default=True)
    target_modules: List[str] = _help("Modules to attach tuners to; 'all-linear' = every Linear but lm_head.",
                                      default_factory=lambda: ['all-linear'])
    target_regex: Optional[str] = _help('Regex on full module names choosing the tuned modules; overrides '
                                        '--target_modules.', default=None)
    init_weights: str = _help('LoRA init: true, false, gaussian, pissa, pissa_niter_<N>, olora, orthogonal.',
                              default='true')
    modules_to_save: List[str] = _list('Extra original modules to train and save next to the tuner.')
    # Full training.
    freeze_parameters: List[str] = _list('Full training: name prefixes of parameters to freeze.')
    freeze_parameters_ratio: float = _help('Full training: fraction of parameters to freeze, bottom-up.',
                                           default=0.)
    trainable_parameters: List[str] = _list('Full training: name prefixes kept trainable (wins over freezing).')
    # LoRA.
    lora_rank: int = _help('LoRA rank r.', default=8)
    lora_alpha: int = _help('LoRA alpha (scaling = alpha / r, or alpha / sqrt(r) with rsLoRA).', default=32)
    lora_dropout: float = _help('Dropout on the LoRA input.', default=0.05)
    lora_bias: str = _help("Which biases to train: 'none' or 'all' (also 'lora_only').", default='none')
    lora_dtype: Optional[str] = _help('dtype of the LoRA weights: float16, bfloat16, float32; default: the '
                                      "model's.", default=None)
    use_dora: bool = _help('Use DoRA (weight-decomposed LoRA).', default=False)
    use_rslora: bool = _help('Use rank-stabilised LoRA scaling alpha / sqrt(r).', default=False)
    lorap_lr_ratio: Optional[float] = _help('LoRA+: learning-rate ratio of lora_B to lora_A (10-16 advised).',
                                            default=None)
    # LoRA-GA (not implemented).
    lora_ga_batch_size: int = _help('LoRA-GA (not supported yet): gradient estimation batch size.', default=2)
    lora_ga_iters: int = _help('LoRA-GA (not supported yet): gradient estimation iterations.', default=2)
    lora_ga_max_length: int = _help('LoRA-GA (not supported yet): gradient estimation max length.', default=1024)
    lora_ga_direction: str = _help('LoRA-GA (not supported yet): init direction.', default='ArB2r')
    lora_ga_scale: str = _help('LoRA-GA (not supported yet): init scaling.', default='stable')
    lora_ga_stable_gamma: int = _help('LoRA-GA (not supported yet): gamma of stable scaling.', default=16)
    # FourierFT.
    fourier_n_frequency: int = _help('FourierFT: number of learned frequencies (like LoRA r).', default=2000)
    fourier_scaling: float = _help('FourierFT: scaling of the delta weight (like lora_alpha).', default=300.0)
    # BOFT.
    boft_block_size: int = _help('BOFT: block size (not together with --boft_block_num).', default=4)
    boft_block_num: int = _help('BOFT: number of blocks; when set, replaces --boft_block_size.', default=0)
    boft_n_butterfly_factor: int = _help('BOFT: number of butterfly factors.', default=1)
    boft_dropout: float = _help('BOFT: multiplicative dropout.', default=0.0)
    # VeRA.
    vera_rank: int = _help('VeRA: rank of the shared random projections.', default=256)
    vera_projection_prng_key: bool = _help('VeRA: store the random projection matrices in the checkpoint.',
                                           default=True)
    vera_dropout: float = _help('VeRA: dropout.', default=0.0)
    vera_d_initial: float = _help('VeRA: initial value of the d vector.', default=0.1)
    # GaLore (not implemented).
    use_galore: bool = _help('GaLore (not supported yet).', default=False)
    galore_target_modules: Optional[List[str]] = _help('GaLore (not supported yet): target modules.',
                                                       default=None)
    galore_rank: int = _help('GaLore (not supported yet): rank.', default=128)
    galore_update_proj_gap: int = _help('GaLore (not supported yet): projection update interval.', default=50)
    galore_scale: float = _help('GaLore (not supported yet): scale.', default=1.0)
    galore_proj_type: str = _help('GaLore (not supported yet): projection type.', default='std')
    galore_optim_per_parameter: bool = _help('GaLore (not supported yet): one optimizer per parameter.',
                                             default=False)
    galore_with_embedding: bool = _help('GaLore (not supported yet): also on embeddings.', default=False)
    galore_quantization: bool = _help('Q-GaLore (not supported yet).', default=False)
    galore_proj_quant: bool = _help('Q-GaLore (not supported yet): quantise the projection.', default=False)
    galore_proj_bits: int = _help('Q-GaLore (not supported yet): projection bits.', default=4)
    galore_proj_group_size: int = _help('Q-GaLore (not supported yet): projection group size.', default=256)
    galore_cos_threshold: float = _help('Q-GaLore (not supported yet): cosine threshold.', default=0.4)
    galore_gamma_proj: int = _help('Q-GaLore (not supported yet): interval growth factor.', default=2)
    galore_queue_size: int = _help('Q-GaLore (not supported yet): similarity queue length.', default=5)
    # LISA (not implemented).
    lisa_activated_layers: int = _help('LISA (not supported yet): layers trained at a time; 0 = off.', default=0)
    lisa_step_interval: int = _help('LISA (not supported yet): steps between layer switches.', default=20)
    # LLaMA-Pro.
    llamapro_num_new_blocks: int = _help('LLaMA-Pro: number of decoder blocks to insert.', default=4)
    llamapro_num_groups: Optional[int] = _help('LLaMA-Pro: groups the new blocks are spread over; default: '
                                               'one group per new block.', default=None)
    # AdaLoRA.
    adalora_target_r: int = _help('AdaLoRA: average target rank.', default=8)
    adalora_init_r: int = _help('AdaLoRA: initial rank.', default=12)
    adalora_tinit: int = _help('AdaLoRA: initial warm-up steps.', default=0)
    adalora_tfinal: int = _help('AdaLoRA: final fine-tuning steps.', default=0)
    adalora_deltaT: int = _help('AdaLoRA: steps between budget allocations.', default=1)
    adalora_beta1: float = _help('AdaLoRA: EMA factor of the sensitivity.', default=0.85)
    adalora_beta2: float = _help('AdaLoRA: EMA factor of the uncertainty.', default=0.85)
    adalora_orth_reg_weight: float = _help('AdaLoRA: orthogonal regularisation weight.', default=0.5)
    # ReFT (not implemented).
    reft_layers: Optional[List[int]] = _help('ReFT (not supported yet): layers.', default=None)
    reft_rank: int = _help('ReFT (not supported yet): rank.', default=4)
    reft_intervention_type: str = _help('ReFT (not supported yet): intervention type.',
                                        default='LoreftIntervention')
    reft_args: Optional[str] = _help('ReFT (not supported yet): extra intervention arguments as JSON.',
                                     default=None)
    # Liger (not implemented).
    use_liger: bool = _help('liger-kernel (not supported yet: needs a GPU).', default=False)

    def validate(self):
        self._validate_unsupported()
        self._validate_values()
        self._validate_for_train_type(getattr(self, 'train_type', None))

    def _validate_unsupported(self):
        if getattr(self, 'tuner_backend', 'peft') == 'unsloth':
            raise ArgumentError('--tuner_backend unsloth is not supported yet in this version; use peft.')
        for f in fields(TunerArguments):
            feature = next((v for k, v in _UNSUPPORTED_FIELDS.items() if f.name.startswith(k)), None)
            if feature and getattr(self, f.name) != _default_of(f):
                raise ArgumentError(f'--{f.name}: {feature} is not supported yet in this version; '
                                    'remove the argument.')
        if str(self.init_weights).lower() in ('lora-ga', 'lora_ga'):
            raise ArgumentError('--init_weights lora-ga: LoRA-GA is not supported yet in this version.')

    def _validate_values(self):
        if not 0 <= self.freeze_parameters_ratio <= 1:
            raise ArgumentError(f'--freeze_parameters_ratio must be in [0, 1], got {self.freeze_parameters_ratio}.')
        if self.lora_bias not in ('none', 'all', 'lora_only'):
            raise ArgumentError(f"--lora_bias must be 'none' or 'all', got {self.lora_bias!r}.")
        if self.lora_dtype is not None and self.lora_dtype not in LORA_DTYPES:
            raise ArgumentError(f'--lora_dtype must be one of float16, bfloat16, float32, got {self.lora_dtype!r}.')
        if parse_init_weights(self.init_weights) is None:
            raise ArgumentError(f'--init_weights {self.init_weights!r} is not supported; '
                                f'choose one of: {", ".join(LORA_INIT_WEIGHTS)}.')
        if self.lora_rank < 1 or not 0 <= self.lora_dropout < 1:
            raise ArgumentError('--lora_rank must be >= 1 and --lora_dropout in [0, 1).')
        if self.boft_block_num and self.boft_block_size not in (0, 4):
            raise ArgumentError('--boft_block_size and --boft_block_num cannot be used together; pass one.')
        if self.target_regex is not None:
            try:
                re.compile(self.target_regex)
            except re.error as e:
                raise ArgumentError(f'--target_regex {self.target_regex!r} is not a valid regex: {e}.') from None
        if self.lorap_lr_ratio is not None and self.lorap_lr_ratio <= 0:
            raise ArgumentError(f'--lorap_lr_ratio must be > 0, got {self.lorap_lr_ratio}.')

    def _validate_for_train_type(self, train_type: Optional[str]):
        if train_type is None or train_type not in KNOWN_TRAIN_TYPES:
            return  # a plugin tuner (or a typo): resolve() checks it once --external_plugins are imported
        if train_type not in SUPPORTED_TRAIN_TYPES:
            raise ArgumentError(f'--train_type {train_type} is not supported yet in this version; '
                                f'supported: {", ".join(SUPPORTED_TRAIN_TYPES)}.')
        only = [('lorap_lr_ratio', self.lorap_lr_ratio is not None, ('lora', )),
                ('use_dora', self.use_dora, ('lora', )),
                ('use_rslora', self.use_rslora, ('lora', 'adalora')),
                ('lora_dtype', self.lora_dtype is not None, ('lora', )),
                ('init_weights', str(self.init_weights).lower() != 'true', ('lora', 'adalora'))]
        for name, is_set, train_types in only:
            if is_set and train_type not in train_types:
                raise ArgumentError(f'--{name} only applies to --train_type {"/".join(train_types)}, '
                                    f'not {train_type}; remove it.')


def parse_init_weights(value):
    """'true'/'false' -> bool, known init names -> str, anything else -> None."""
    text = str(value).lower()
    if text in ('true', 'false'):
        return text == 'true'
    if text in ('gaussian', 'pissa', 'olora', 'orthogonal') or re.fullmatch(r'pissa_niter_\d+', text):
        return text
    return None


def _default_of(f):
    return f.default_factory() if callable(f.default_factory) else f.default
