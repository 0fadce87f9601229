"""TunerArguments: the "Tuner" group of ms-swift 3.x (names and defaults kept so its command lines parse), plus
LLaMA-Factory's memory-saving optimizers (use_apollo/apollo_*, use_badam/badam_*, use_adam_mini).

A method's own fields (galore_*, lisa_step_interval, reft_*, ...) set without the method fail in validate().
"""
import json
import re
from dataclasses import dataclass, fields
from typing import List, Literal, Optional

from swift.utils import ArgumentError
from .base_args import TRAIN_TYPES  # ms-swift's train_type values; other names are plugin tuners
from .groups import _help, _list

LORA_INIT_WEIGHTS = ('true', 'false', 'gaussian', 'pissa', 'pissa_niter_<N>', 'olora', 'orthogonal', 'lora-ga')
LORA_DTYPES = ('float16', 'bfloat16', 'float32', 'fp16', 'bf16', 'fp32')
REFT_INTERVENTIONS = ('NoreftIntervention', 'LoreftIntervention', 'ConsreftIntervention', 'LobireftIntervention',
                      'DireftIntervention', 'NodireftIntervention')
_NEW_ADAPTER_TYPES = ('lora', 'longlora', 'adalora', 'vera', 'boft', 'fourierft')  # mergeable peft tuners
# Field-name prefix -> (the flag that enables those fields, test on the arguments).
_METHOD_FIELDS = {
    'galore_': ('--use_galore', lambda a: a.use_galore),
    'apollo_': ('--use_apollo', lambda a: a.use_apollo),
    'badam_': ('--use_badam', lambda a: a.use_badam),
    'lisa_step_interval': ('--lisa_activated_layers', lambda a: a.lisa_activated_layers > 0),
    'lora_ga_': ('--init_weights lora-ga', lambda a: str(a.init_weights).lower() in ('lora-ga', 'lora_ga')),
    'reft_': ('--train_type reft', lambda a: getattr(a, 'train_type', None) == 'reft'),
    'adapter_': ('--train_type adapter', lambda a: getattr(a, 'train_type', None) == 'adapter'),
}


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
    create_new_adapter: bool = _help('LLaMA-Factory: merge --adapters into the base model and train a fresh adapter '
                                     'on top (infer/export merge them again, from the new adapter\'s args.json).',
                                     default=False)
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
    # LoRA-GA (--init_weights lora-ga).
    lora_ga_batch_size: int = _help('LoRA-GA: batch size of the gradient estimate.', default=2)
    lora_ga_iters: int = _help('LoRA-GA: batches averaged into the gradient estimate.', default=2)
    lora_ga_max_length: int = _help('LoRA-GA: samples are cut to this many tokens for the estimate.',
                                    default=1024)
    lora_ga_direction: Literal['ArBr', 'A2rBr', 'ArB2r', 'random'] = _help(
        'LoRA-GA: which singular vectors of the gradient initialise A and B.', default='ArB2r')
    lora_ga_scale: Literal['gd', 'unit', 'stable', 'weightS'] = _help(
        'LoRA-GA: scaling of the initialisation.', default='stable')
    lora_ga_stable_gamma: int = _help("LoRA-GA: gamma of the 'stable' scaling.", default=16)
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
    # GaLore / Q-GaLore (galore-torch, q-galore-torch).
    use_galore: bool = _help('GaLore: Adam state on low-rank projections of the gradients (galore-torch).',
                             default=False)
    galore_target_modules: Optional[List[str]] = _help('GaLore: name parts of the projected Linear modules; '
                                                       "default: attention and MLP ('attn', 'mlp').", default=None)
    galore_rank: int = _help('GaLore: rank of the gradient projection.', default=128)
    galore_update_proj_gap: int = _help('GaLore: steps between projection (SVD) updates.', default=50)
    galore_scale: float = _help('GaLore: scale of the projected-back update.', default=1.0)
    galore_proj_type: Literal['std', 'reverse_std', 'right', 'left', 'full'] = _help(
        'GaLore: projection side.', default='std')
    galore_optim_per_parameter: bool = _help('GaLore: one optimizer per parameter, stepped during backward (no '
                                             'full gradient kept).', default=False)
    galore_with_embedding: bool = _help('GaLore: also project the input embedding gradient.', default=False)
    galore_quantization: bool = _help('Q-GaLore (q-galore-torch, CUDA only): 8-bit Adam with a quantised '
                                      'projection.', default=False)
    galore_proj_quant: bool = _help('Q-GaLore: quantise the projection matrix.', default=False)
    galore_proj_bits: int = _help('Q-GaLore: bits of the quantised projection.', default=4)
    galore_proj_group_size: int = _help('Q-GaLore: quantisation group size of the projection.', default=256)
    galore_cos_threshold: float = _help('Q-GaLore: cosine similarity above which the update gap grows.',
                                        default=0.4)
    galore_gamma_proj: int = _help('Q-GaLore: factor the update gap grows by.', default=2)
    galore_queue_size: int = _help('Q-GaLore: length of the similarity queue.', default=5)
    # APOLLO, BAdam, Adam-mini (LLaMA-Factory's names and defaults).
    use_apollo: bool = _help('APOLLO: AdamW with low-rank estimated gradient scaling (apollo-torch).',
                             default=False)
    apollo_target: str = _help("APOLLO: comma-separated name parts of the Linear modules; 'all' = every one.",
                               default='all')
    apollo_rank: int = _help('APOLLO: rank of the auxiliary space.', default=16)
    apollo_update_interval: int = _help('APOLLO: steps between projection updates.', default=200)
    apollo_scale: float = _help('APOLLO: gradient scale factor.', default=32.0)
    apollo_proj: Literal['svd', 'random'] = _help('APOLLO: projection (random or svd).', default='random')
    apollo_proj_type: Literal['std', 'right', 'left'] = _help('APOLLO: projection side.', default='std')
    apollo_scale_type: Literal['channel', 'tensor'] = _help('APOLLO: scaling per channel or per tensor.',
                                                            default='channel')
    apollo_layerwise: bool = _help('APOLLO: one optimizer per parameter, stepped during backward.',
                                   default=False)
    apollo_scale_front: bool = _help('APOLLO: apply the norm-growth limiter before the scaling.', default=False)
    use_badam: bool = _help('BAdam: block coordinate descent with Adam (badam); --train_type full.',
                            default=False)
    badam_mode: Literal['layer', 'ratio'] = _help('BAdam: blocks are decoder layers, or a ratio of each weight.',
                                                  default='layer')
    badam_start_block: Optional[int] = _help('BAdam (layer): index of the first block.', default=None)
    badam_switch_mode: Literal['ascending', 'descending', 'random', 'fixed'] = _help(
        'BAdam (layer): block order.', default='ascending')
    badam_switch_interval: int = _help('BAdam: steps between block switches; -1 never switches.', default=50)
    badam_update_ratio: float = _help('BAdam (ratio): fraction of each weight updated.', default=0.05)
    badam_mask_mode: Literal['adjacent', 'scatter'] = _help('BAdam (ratio): mask of adjacent or scattered '
                                                            'entries.', default='adjacent')
    badam_verbose: int = _help('BAdam: 0 silent, 1 block prefixes, 2 trainable parameters.', default=0)
    use_adam_mini: bool = _help('Adam-mini: one second moment per parameter block (adam-mini).', default=False)
    # LISA.
    lisa_activated_layers: int = _help('LISA (full training): decoder layers trained at a time; 0 = off.',
                                       default=0)
    lisa_step_interval: int = _help('LISA: steps between switches of the trained layers.', default=20)
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
    # Adapter (bottleneck).
    adapter_act: str = _help('Adapter: activation between the down and up projections.', default='gelu')
    adapter_length: int = _help('Adapter: bottleneck width.', default=128)
    # ReFT (LoReFT family, our hook implementation).
    reft_layers: Optional[List[int]] = _help('ReFT: decoder layers to intervene on; default: all.', default=None)
    reft_rank: int = _help('ReFT: rank of the intervention subspace.', default=4)
    reft_intervention_type: Literal[REFT_INTERVENTIONS] = _help('ReFT: intervention type.',
                                                                default='LoreftIntervention')
    reft_args: Optional[str] = _help('ReFT: extra intervention arguments as JSON, e.g. \'{"dropout": 0.1}\'.',
                                     default=None)
    # Liger.
    use_liger: bool = _help('liger-kernel fused kernels (CUDA GPU only); same as --use_liger_kernel.',
                            default=False)

    def validate(self):
        self._validate_method_fields()
        self._validate_values()
        self._validate_for_train_type(getattr(self, 'train_type', None))
        self._validate_gpu_only()
        if self.create_new_adapter and not getattr(self, 'adapters', None):
            raise ArgumentError('--create_new_adapter true merges --adapters into the base first: pass --adapters.')
        if self.create_new_adapter and getattr(self, 'train_type', None) not in _NEW_ADAPTER_TYPES:
            raise ArgumentError(f'--create_new_adapter applies to {", ".join(_NEW_ADAPTER_TYPES)}; --train_type '
                                f'{self.train_type} adds no such adapter.')

    def _validate_method_fields(self):
        for f in fields(TunerArguments):
            method = next((v for k, v in _METHOD_FIELDS.items() if f.name.startswith(k)), None)
            if method and getattr(self, f.name) != _default_of(f) and not method[1](self):
                raise ArgumentError(f'--{f.name} only applies with {method[0]}; add it or remove --{f.name}.')
        chosen = [flag for flag, on in (('--use_galore', self.use_galore), ('--use_apollo', self.use_apollo),
                                        ('--use_adam_mini', self.use_adam_mini), ('--use_badam', self.use_badam),
                                        ('--lorap_lr_ratio', self.lorap_lr_ratio is not None)) if on]
        if len(chosen) > 1:
            raise ArgumentError(f'{" and ".join(chosen)} each choose the optimizer: keep one.')

    def _validate_gpu_only(self):
        """Kernels and backends that exist only for CUDA fail here, before any weight is loaded."""
        import torch
        if torch.cuda.is_available():
            return
        if getattr(self, 'tuner_backend', 'peft') == 'unsloth':
            raise ArgumentError('--tuner_backend unsloth needs a CUDA GPU (unsloth has no CPU kernels); '
                                'use --tuner_backend peft here.')
        if self.use_liger or getattr(self, 'use_liger_kernel', False):
            raise ArgumentError('--use_liger needs a CUDA GPU (liger-kernel is written in Triton); drop it here.')
        if self.galore_quantization:
            raise ArgumentError('--galore_quantization (Q-GaLore) needs a CUDA GPU: q-galore-torch synchronises '
                                'CUDA every step; use plain --use_galore here.')

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
        positive = ['galore_rank', 'galore_update_proj_gap', 'apollo_rank', 'apollo_update_interval', 'reft_rank',
                    'adapter_length', 'lora_ga_batch_size', 'lora_ga_iters', 'lora_ga_max_length', 'lisa_step_interval']
        for name in positive:
            if getattr(self, name) < 1:
                raise ArgumentError(f'--{name} must be >= 1, got {getattr(self, name)}.')
        if self.lisa_activated_layers < 0 or not 0 < self.badam_update_ratio <= 1:
            raise ArgumentError('--lisa_activated_layers must be >= 0 and --badam_update_ratio in (0, 1].')
        if self.reft_args is not None:
            parse_reft_args(self.reft_args)
        if self.galore_quantization and self.galore_proj_type != 'std':
            raise ArgumentError('--galore_quantization (Q-GaLore) projects with --galore_proj_type std only.')

    def _validate_for_train_type(self, train_type: Optional[str]):
        if train_type is None or train_type not in TRAIN_TYPES:
            return  # a plugin tuner (or a typo): resolve() checks it once --external_plugins are imported
        lora_ga = str(self.init_weights).lower() in ('lora-ga', 'lora_ga')
        only = [('lorap_lr_ratio', self.lorap_lr_ratio is not None, ('lora', 'longlora')),
                ('use_dora', self.use_dora, ('lora', 'longlora')),
                ('use_rslora', self.use_rslora, ('lora', 'longlora', 'adalora')),
                ('lora_dtype', self.lora_dtype is not None, ('lora', 'longlora')),
                ('init_weights lora-ga', lora_ga, ('lora', )),
                ('init_weights', str(self.init_weights).lower() != 'true', ('lora', 'longlora', 'adalora')),
                ('use_badam', self.use_badam, ('full', )),
                ('lisa_activated_layers', self.lisa_activated_layers > 0, ('full', ))]
        for name, is_set, train_types in only:
            if is_set and train_type not in train_types:
                raise ArgumentError(f'--{name} only applies to --train_type {"/".join(train_types)}, '
                                    f'not {train_type}; remove it.')


def parse_init_weights(value):
    """'true'/'false' -> bool, known init names -> str ('lora_ga' for LoRA-GA), anything else -> None."""
    text = str(value).lower()
    if text in ('true', 'false'):
        return text == 'true'
    if text in ('lora-ga', 'lora_ga'):
        return 'lora_ga'
    if text in ('gaussian', 'pissa', 'olora', 'orthogonal') or re.fullmatch(r'pissa_niter_\d+', text):
        return text
    return None


REFT_ARG_KEYS = ('dropout', 'act_fn')


def parse_reft_args(text: str) -> dict:
    """--reft_args JSON -> dict with only the keys our interventions read."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ArgumentError(f'--reft_args is not valid JSON ({e.msg}): pass e.g. \'{{"dropout": 0.1}}\'.') from None
    if not isinstance(value, dict) or set(value) - set(REFT_ARG_KEYS):
        raise ArgumentError(f'--reft_args must be a JSON object with keys among {", ".join(REFT_ARG_KEYS)}, '
                            f'got {text}.')
    return value


def _default_of(f):
    return f.default_factory() if callable(f.default_factory) else f.default
