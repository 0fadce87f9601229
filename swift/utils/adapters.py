"""`--adapters` specs: the one reading of `name=path`, used by the engines that own the adapters."""
import os
from typing import Dict, Sequence, Union

from .errors import ArgumentError


def parse_adapters(adapters: Union[None, Sequence[str], Dict[str, str]]) -> Dict[str, str]:
    """`['path', 'name=path', ...]` or {name: path} -> {name: path}. Unnamed adapters are named `default`,
    `default1`, ...: the first unnamed one is applied to requests that name no adapter."""
    if not adapters:
        return {}
    if isinstance(adapters, dict):
        return dict(adapters)
    out, unnamed = {}, 0
    for spec in adapters:
        name, sep, path = spec.partition('=')
        if not sep or not name or os.path.exists(spec):
            name, path = ('default' if unnamed == 0 else f'default{unnamed}'), spec
            unnamed += 1
        if name in out:
            raise ArgumentError(f'--adapters names {name!r} twice; give each adapter a unique name=path.')
        out[name] = path
    return out
