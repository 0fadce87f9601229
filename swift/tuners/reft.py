"""--train_type reft: representation fine-tuning (LoReFT and its pyreft variants) on the hidden states leaving the
chosen decoder layers, at every position.

pyreft 0.1 pins transformers==4.45.1, so it cannot be installed beside transformers 5; these interventions
follow its definitions (R: rank x hidden with orthonormal rows, W/b: a learned linear source):
  Loreft    h + R^T(act(W h + b) - R h)        Noreft    same, R not orthogonal
  Direft    h + R^T act(W h + b)               Nodireft  same, R not orthogonal
  Consreft  h + R^T(b - R h)                   Lobireft  h + R^T b
ReFT changes activations, not weights: it cannot be merged (serve it with --adapters).
"""
import torch
from torch import nn
from transformers.activations import ACT2FN

from swift.arguments.tuner_args import parse_reft_args
from swift.utils import ArgumentError
from .hooked import HOOK_TUNERS, attach, decoder_layers

PEFT_TYPE = 'SWIFT_REFT'
_ORTHOGONAL = ('LoreftIntervention', 'DireftIntervention', 'ConsreftIntervention', 'LobireftIntervention')


class Intervention(nn.Module):

    def __init__(self, kind: str, dim: int, rank: int, dropout: float = 0.0, act_fn: str = 'linear'):
        super().__init__()
        self.kind = kind
        self.rotate = nn.Linear(dim, rank, bias=False)
        if kind in ('ConsreftIntervention', 'LobireftIntervention'):
            self.source = nn.Parameter(torch.zeros(rank))
        else:
            self.learned = nn.Linear(dim, rank)
        self.act = ACT2FN[act_fn]
        self.dropout = nn.Dropout(dropout)

    def forward(self, hidden):
        weight = self.rotate.weight  # (rank, dim); orthonormal rows through QR for the orthogonal kinds
        if self.kind in _ORTHOGONAL:
            weight = torch.linalg.qr(weight.T.float()).Q.T.to(hidden.dtype)
        if self.kind == 'LobireftIntervention':
            delta = self.source.expand(*hidden.shape[:-1], -1)
        elif self.kind == 'ConsreftIntervention':
            delta = self.source - hidden @ weight.T
        else:
            delta = self.act(self.learned(hidden))
            if self.kind in ('LoreftIntervention', 'NoreftIntervention'):
                delta = delta - hidden @ weight.T
        return hidden + self.dropout(delta @ weight)


def _layer_hook(module, inputs, output):
    if isinstance(output, tuple):
        return (module.swift_reft(output[0]), ) + output[1:]
    return module.swift_reft(output)


def _attach(model, config: dict):
    layers = decoder_layers(model, '--train_type reft')
    chosen = config['reft_layers'] if config['reft_layers'] is not None else list(range(len(layers)))
    bad = [i for i in chosen if not 0 <= i < len(layers)]
    if bad:
        raise ArgumentError(f'--reft_layers {bad}: the model has layers 0..{len(layers) - 1}.')
    dim = model.config.get_text_config().hidden_size
    param = next(model.parameters())
    dtype = param.dtype if param.is_floating_point() else torch.float32
    for index in chosen:
        layer = layers[index]
        layer.swift_reft = Intervention(config['reft_intervention_type'], dim, config['reft_rank'],
                                        **config['reft_args']).to(device=param.device, dtype=dtype)
        layer.register_forward_hook(_layer_hook)


def prepare_reft(args, model):
    reft_args = parse_reft_args(args.reft_args) if args.reft_args else {}
    if reft_args.get('act_fn', 'linear') not in ACT2FN:
        raise ArgumentError(f'--reft_args act_fn {reft_args["act_fn"]!r} is unknown; use e.g. linear, relu.')
    config = {'reft_layers': args.reft_layers, 'reft_rank': args.reft_rank,
              'reft_intervention_type': args.reft_intervention_type, 'reft_args': reft_args}
    return attach(model, PEFT_TYPE, config)


HOOK_TUNERS[PEFT_TYPE] = _attach
