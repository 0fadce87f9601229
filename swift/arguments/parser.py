"""Strict command-line and config-file parsing for the integrated argument dataclasses.

Rules (ms-swift grammar): lists are space separated, dicts are JSON, booleans are true/false.
Unknown or abbreviated flags are errors with a did-you-mean, raised before anything heavy is loaded.
"""
import argparse
import dataclasses
import json
import os
import sys
import types
import typing
from typing import Any, Dict, List, Optional, Sequence, Tuple, Type, TypeVar

from swift.utils import ArgumentError, closest, get_logger

logger = get_logger()
T = TypeVar('T')
# Other spellings of our (ms-swift 3.x reference) names, as ms-swift's own examples and later releases write them.
ALIASES = {
    'train_type': ['tuner_type'],  # ms-swift 4.x
    'init_weights': ['init_lora_weights'],  # the PiSSA/OLoRA examples
    'tools_prompt': ['agent_template'],  # ms-swift >= 3.5
    'vllm_max_model_len': ['vllm_max_model_length'],  # trl's GRPOConfig name
    'ref_adapters': ['ref_model_adapters'],  # LLaMA-Factory
}
_ALIAS_OF = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
_NONE = ('none', 'null')
_logged_aliases = set()


def parse_bool(value: str) -> bool:
    text = str(value).strip().lower()
    if text in ('true', '1', 'yes', 'y'):
        return True
    if text in ('false', '0', 'no', 'n'):
        return False
    raise argparse.ArgumentTypeError(f'expected true or false, got {value!r}')


def _parse_json_or_str(value: str):
    text = value.strip()
    if text[:1] in '{[':
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise argparse.ArgumentTypeError(f'invalid JSON {value!r}: {e}') from None
    return None if text.lower() in _NONE else value


def _optional(parse):

    def inner(value: str):
        return None if str(value).strip().lower() in _NONE else parse(value)

    inner.__name__ = getattr(parse, '__name__', 'value')
    return inner


def _members(tp) -> Tuple[list, bool]:
    """Union members without NoneType, and whether None was allowed."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = list(typing.get_args(tp))
        return [a for a in args if a is not type(None)], type(None) in args
    return [tp], False


def _list_item(tp):
    for member in _members(tp)[0]:
        if typing.get_origin(member) in (list, List) or member is list:
            args = typing.get_args(member)
            return args[0] if args else str
    return None


def _scalar_parser(members: list):
    """Pick a parse function for the non-list members of a field type."""
    if any(m is dict or typing.get_origin(m) in (dict, Dict) for m in members):
        return _parse_json_or_str
    if members and typing.get_origin(members[0]) is typing.Literal:
        return str
    for simple in (bool, int, float):
        if simple in members and len(members) == 1:
            return parse_bool if simple is bool else simple
    if bool in members:  # e.g. `str | bool`
        return lambda v: parse_bool(v) if str(v).lower() in ('true', 'false') else v
    return str


def _kwargs_for(field: dataclasses.Field) -> Dict[str, Any]:
    tp = field.type
    members, nullable = _members(tp)
    item = _list_item(tp)
    kwargs: Dict[str, Any] = {}
    if item is not None:
        kwargs['nargs'] = '*'
        kwargs['type'] = _scalar_parser([item])
        return kwargs
    parse = _scalar_parser([m for m in members if typing.get_origin(m) is not typing.Literal] or members)
    if parse is parse_bool:
        kwargs.update(nargs='?', const=True)
    literal = next((m for m in members if typing.get_origin(m) is typing.Literal), None)
    if literal is not None:
        kwargs['choices'] = [c for c in typing.get_args(literal) if c is not False]
    keeps_none = literal is not None and 'none' in kwargs['choices']  # e.g. --norm_bbox none is a value
    kwargs['type'] = _optional(parse) if (nullable or field.default is None) and not keeps_none else parse
    return kwargs


def _default_of(field: dataclasses.Field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _groups(cls) -> List[Tuple[str, List[dataclasses.Field]]]:
    """Fields grouped by the dataclass that first declares them, base groups first."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    seen, groups = set(), []
    for klass in reversed(cls.__mro__):
        names = [n for n in vars(klass).get('__annotations__', {}) if n in fields and n not in seen]
        if names:
            seen.update(names)
            title = getattr(klass, 'group_title', None) or klass.__name__
            groups.append((title, [fields[n] for n in names]))
    return groups


class _Parser(argparse.ArgumentParser):

    def error(self, message):
        raise ArgumentError(f'{self.prog}: {message}')


def build_parser(cls, prog: str = 'swift') -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        allow_abbrev=False,
        add_help=True,
        description=(cls.__doc__ or '').strip().split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', metavar='FILE', help='YAML or JSON file of arguments; command-line values win.')
    for title, fields in _groups(cls):
        group = parser.add_argument_group(title)
        for f in fields:
            flags = [f'--{f.name}'] + [f'--{a}' for a in ALIASES.get(f.name, [])]
            help_text = (f.metadata.get('help') or '').replace('%', '%%')
            default = _default_of(f)
            help_text = f'{help_text} (default: {default!r})' if help_text else f'(default: {default!r})'
            group.add_argument(*flags, dest=f.name, default=argparse.SUPPRESS, help=help_text, **_kwargs_for(f))
    return parser


def load_config_file(path: str) -> Dict[str, Any]:
    if not os.path.isfile(path):
        raise ArgumentError(f'--config {path}: file not found.')
    with open(path, encoding='utf-8') as f:
        text = f.read()
    try:
        if path.endswith(('.yaml', '.yml')):
            import yaml
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as e:  # noqa: BLE001 - yaml and json raise different types
        raise ArgumentError(f'--config {path}: cannot parse ({type(e).__name__}: {str(e).splitlines()[0]}).') from None
    if not isinstance(data, dict):
        raise ArgumentError(f'--config {path}: expected a mapping of argument names to values.')
    return data


def config_to_argv(data: Dict[str, Any]) -> List[str]:
    argv = []
    for key, value in data.items():
        if value is None:
            continue
        argv.append(f'--{key}')
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, bool):
                argv.append('true' if v else 'false')
            elif isinstance(v, dict):
                argv.append(json.dumps(v, ensure_ascii=False))
            else:
                argv.append(str(v))
    return argv


def _split_config(argv: List[str]) -> Tuple[Optional[str], List[str]]:
    """`--config f` or a leading positional f.yaml/.json (LLaMA-Factory style)."""
    argv = list(argv)
    if argv and not argv[0].startswith('-') and argv[0].endswith(('.yaml', '.yml', '.json')):
        return argv[0], argv[1:]
    if '--config' in argv:
        i = argv.index('--config')
        if i + 1 >= len(argv):
            raise ArgumentError('--config needs a file path.')
        return argv[i + 1], argv[:i] + argv[i + 2:]
    return None, argv


def _log_aliases(argv: List[str]) -> None:
    """One info line per alias spelling, the first time it is used in this process."""
    for token in argv:
        key = token[2:].split('=', 1)[0] if token.startswith('--') else None
        if key in _ALIAS_OF and key not in _logged_aliases:
            _logged_aliases.add(key)
            logger.info(f'--{key} is read as --{_ALIAS_OF[key]} (the name this version documents).')


def _check_unknown(parser, cls, unknown: List[str], source: str):
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    names += [a for aliases in ALIASES.values() for a in aliases]
    for token in unknown:
        if token.startswith('--'):
            key = token[2:].split('=', 1)[0]
            hits = closest(key, names)
            hint = f' Did you mean: {", ".join("--" + h for h in hits)}?' if hits else ''
            raise ArgumentError(f'Unknown argument --{key}{source}.{hint} '
                                f'See `{parser.prog} --help` for the full list.')
        raise ArgumentError(f'Unexpected value {token!r}{source}: values follow a --flag; '
                            f'quote values that contain spaces.')


def parse_args(cls: Type[T], argv: Optional[Sequence[str]] = None, prog: str = 'swift') -> T:
    """Parse argv (and an optional config file) into `cls`; unknown flags raise ArgumentError."""
    argv = list(sys.argv[1:] if argv is None else argv)
    config_path, argv = _split_config(argv)
    parser = build_parser(cls, prog)
    values: Dict[str, Any] = {}
    if config_path:
        cfg_argv = config_to_argv(load_config_file(config_path))
        cfg_ns, unknown = parser.parse_known_args(cfg_argv)
        _check_unknown(parser, cls, unknown, f' in {config_path}')
        _log_aliases(cfg_argv)
        values.update(vars(cfg_ns))
    ns, unknown = parser.parse_known_args(argv)
    _check_unknown(parser, cls, unknown, '')
    _log_aliases(argv)
    values.update(vars(ns))
    values.pop('config', None)
    return cls(**values)
