"""Inherited arguments a command does not read: setting one is an error, never silently ignored."""
from dataclasses import fields
from typing import Dict, Iterable

from swift.utils import ArgumentError


def reject_set(args, reasons: Dict[str, str], command: str) -> None:
    """Raise for the first field in `reasons` whose value differs from its declared default."""
    declared = {f.name: f for f in fields(args)}
    for name, reason in reasons.items():
        f = declared[name]
        default = f.default_factory() if callable(f.default_factory) else f.default
        if getattr(args, name) != default:
            raise ArgumentError(f'--{name} is not used by `{command}`: {reason}')


def same_reason(names: Iterable[str], reason: str) -> Dict[str, str]:
    return {name: reason for name in names}
