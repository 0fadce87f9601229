"""--train_type adapter: ms-swift's bottleneck Adapter (Houlsby-style) after every decoder MLP:
mlp(x) + up(act(down(mlp(x)))), width --adapter_length, activation --adapter_act. The up projection starts at
zero, so training starts from the base model's output."""
import torch
from torch import nn
from transformers.activations import ACT2FN

from swift.utils import ArgumentError
from .hooked import HOOK_TUNERS, attach, decoder_layers

PEFT_TYPE = 'SWIFT_ADAPTER'


class BottleneckAdapter(nn.Module):

    def __init__(self, dim: int, length: int, act: str):
        super().__init__()
        self.down = nn.Linear(dim, length)
        self.act = ACT2FN[act]
        self.up = nn.Linear(length, dim)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, hidden):
        return hidden + self.up(self.act(self.down(hidden)))


def _mlp_hook(module, inputs, output):
    if isinstance(output, tuple):
        return (module.swift_adapter(output[0]), ) + output[1:]
    return module.swift_adapter(output)


def _attach(model, config: dict):
    layers = decoder_layers(model, '--train_type adapter')
    dim = model.config.get_text_config().hidden_size
    param = next(model.parameters())
    for layer in layers:
        mlp = getattr(layer, 'mlp', None) or getattr(layer, 'feed_forward', None)
        if mlp is None:
            raise ArgumentError(f'--train_type adapter: {type(layer).__name__} has no mlp module.')
        mlp.swift_adapter = BottleneckAdapter(dim, config['adapter_length'], config['adapter_act']).to(
            device=param.device, dtype=param.dtype if param.is_floating_point() else torch.float32)
        mlp.register_forward_hook(_mlp_hook)


def prepare_adapter(args, model):
    if args.adapter_act not in ACT2FN:
        raise ArgumentError(f'--adapter_act {args.adapter_act!r} is unknown; use e.g. gelu, relu, silu.')
    return attach(model, PEFT_TYPE, {'adapter_length': args.adapter_length, 'adapter_act': args.adapter_act})


HOOK_TUNERS[PEFT_TYPE] = _attach
