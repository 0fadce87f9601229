"""`--deepspeed`: a built-in stage name (zero0 ... zero3_offload), a JSON file or a JSON string -> a config dict.

The built-in configs are ms-swift's, "auto" values included: transformers fills those from the training arguments.
"""
import importlib.util
import json
import os
from typing import Any, Dict, Optional

from swift.utils import ArgumentError, did_you_mean

CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ds_config')
BUILTIN = ('zero0', 'zero1', 'zero2', 'zero2_offload', 'zero3', 'zero3_offload')
ALIASES = {'default-zero2': 'zero2', 'default-zero3': 'zero3'}  # the names of older ms-swift examples
INSTALL_HINT = "pip install -e '.[deepspeed]'"


def builtin_config_path(name: str) -> str:
    return os.path.join(CONFIG_DIR, f'{name}.json')


def _parse(text: str, source: str) -> Dict[str, Any]:
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise ArgumentError(f'--deepspeed {source}: not valid JSON ({e}); fix the file or use one of '
                            f'{", ".join(BUILTIN)}.') from None
    if not isinstance(config, dict):
        raise ArgumentError(f'--deepspeed {source}: a DeepSpeed config must be a JSON object.')
    return config


def load_deepspeed_config(value) -> Optional[Dict[str, Any]]:
    """A dict from a stage name, a file path or a JSON string; None when `value` is None."""
    if value is None or isinstance(value, dict):
        return value
    text = ALIASES.get(str(value).strip(), str(value).strip())
    if text in BUILTIN:
        with open(builtin_config_path(text), encoding='utf-8') as f:
            return json.load(f)
    if os.path.isfile(text):
        with open(text, encoding='utf-8') as f:
            return _parse(f.read(), text)
    if text[:1] in '{[':
        return _parse(text, 'JSON string')
    hint = did_you_mean(text, BUILTIN)
    raise ArgumentError(f'--deepspeed {text}: not a built-in config, a file or a JSON string.{hint} '
                        f'Built-in: {", ".join(BUILTIN)}.')


def zero_stage(config: Optional[Dict[str, Any]]) -> Optional[int]:
    if config is None:
        return None
    return int(config.get('zero_optimization', {}).get('stage', 0))


def offload_devices(config: Dict[str, Any]) -> Dict[str, str]:
    """{'optimizer': 'cpu'|'none', 'param': ...} from the zero_optimization section."""
    zero = config.get('zero_optimization', {})
    return {key: (zero.get(f'offload_{key}') or {}).get('device', 'none') for key in ('optimizer', 'param')}


def check_deepspeed_installed() -> None:
    if importlib.util.find_spec('deepspeed') is None:
        raise ArgumentError(f'--deepspeed needs the deepspeed package: {INSTALL_HINT}')


def resolve_deepspeed(value, zero_hpz_partition_size: Optional[int] = None) -> Optional[Dict[str, Any]]:
    """The config dict transformers receives, with ZeRO++ hpZ applied; checks that deepspeed is installed."""
    config = load_deepspeed_config(value)
    if config is None:
        if zero_hpz_partition_size is not None:
            raise ArgumentError('--zero_hpz_partition_size needs --deepspeed zero3 (ZeRO++ hierarchical '
                                'partitioning shards ZeRO-3 parameters within a node).')
        return None
    check_deepspeed_installed()
    if zero_hpz_partition_size is not None:
        if zero_stage(config) != 3:
            raise ArgumentError(f'--zero_hpz_partition_size needs ZeRO stage 3, the config has stage '
                                f'{zero_stage(config)}: use --deepspeed zero3.')
        if zero_hpz_partition_size < 1:
            raise ArgumentError(f'--zero_hpz_partition_size must be >= 1, got {zero_hpz_partition_size}.')
        config = {**config, 'zero_optimization': {**config['zero_optimization'],
                                                  'zero_hpz_partition_size': zero_hpz_partition_size}}
    return config


def describe(value) -> str:
    """'ZeRO-2 (zero2_offload, optimizer offloaded to cpu)' for the launch plan; '' without --deepspeed."""
    config = load_deepspeed_config(value)
    if config is None:
        return ''
    offload = [f'{k} offloaded to {d}' for k, d in offload_devices(config).items() if d not in ('none', None)]
    source = value if isinstance(value, str) and value in BUILTIN else 'custom config'
    return f'ZeRO-{zero_stage(config)} ({source}{", " + ", ".join(offload) if offload else ""})'


def log_zero3_partition(model) -> None:
    """One line per rank: the parameter elements this rank holds right after loading, of the model's total
    (ZeRO-3 partitions at load: about total / world size each, not the whole model)."""
    import torch.distributed as dist
    from swift.utils import get_logger
    params = list(model.parameters())
    local = sum(p.ds_tensor.numel() if hasattr(p, 'ds_tensor') else p.numel() for p in params)
    total = sum(getattr(p, 'ds_numel', p.numel()) for p in params)
    rank = dist.get_rank() if dist.is_initialized() else 0
    get_logger().info(f'ZeRO-3 after loading: rank {rank} holds {local:,} of {total:,} parameter elements '
                      f'({100 * local / max(total, 1):.1f}%)')
