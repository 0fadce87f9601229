"""Form values -> the exact `swift <command> ...` argv, checked by the command's own argument parser.

Field names are argument names, so the previewed line is what a user would type; values equal to the argument's
default are left out to keep it short."""
import dataclasses
import importlib
import shlex
import sys
from typing import Any, Dict, List, Optional, Sequence

from swift.utils import ArgumentError, SwiftError

ARGUMENT_CLASSES = {
    'sft': ('swift.arguments.train_args', 'SftArguments'),
    'rlhf': ('swift.arguments.rlhf_args', 'RLHFArguments'),
    'export': ('swift.arguments.export_args', 'ExportArguments'),
    'deploy': ('swift.arguments.deploy_args', 'DeployArguments'),
}


def arguments_class(command: str):
    module, name = ARGUMENT_CLASSES[command]
    return getattr(importlib.import_module(module), name)


def field_defaults(command: str) -> Dict[str, Any]:
    out = {}
    for f in dataclasses.fields(arguments_class(command)):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = None
    return out


def _strings(value) -> List[str]:
    values = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in values:
        if isinstance(v, bool):
            out.append('true' if v else 'false')
        elif isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
            out.append(str(int(v)))  # gr.Number gives 10.0 for an int field
        else:
            out.append(str(v))
    return out


def _same(value, default) -> bool:
    if isinstance(value, (list, tuple)) or isinstance(default, (list, tuple)):
        return list(value or []) == list(default or [])
    if isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(default, (int, float)):
        return float(value) == float(default)
    return value == default


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def build_argv(command: str, values: Dict[str, Any], extra: str = '') -> List[str]:
    """`--name value ...` for every field that is set and differs from its default, then the extra arguments."""
    defaults = field_defaults(command)
    argv: List[str] = []
    for name, value in values.items():
        if name not in defaults:
            raise KeyError(f'{name} is not an argument of swift {command}')
        if isinstance(value, str):
            value = value.strip()
        if _empty(value) or _same(value, defaults[name]):
            continue
        argv += [f'--{name}'] + _strings(value)
    try:
        argv += shlex.split(extra or '')
    except ValueError as e:
        raise ArgumentError(f'other arguments: {e} (check the quotes).') from None
    return argv


def command_line(command: str, argv: Sequence[str]) -> str:
    return shlex.join(['swift', command, *argv])


def subprocess_argv(command: str, argv: Sequence[str]) -> List[str]:
    return [sys.executable, '-m', 'swift.cli.main', command, *argv]


def check(command: str, argv: Sequence[str]) -> Optional[str]:
    """None when `swift <command> argv` parses, validates and resolves (no weights loaded), else the reason."""
    from swift.arguments.parser import parse_args
    try:
        args = parse_args(arguments_class(command), list(argv), prog=f'swift {command}')
        args.validate()
        args.resolve()  # --model required, tuner names, args.json of --adapters: reads files, writes none
    except SwiftError as e:
        return str(e)
    return None
