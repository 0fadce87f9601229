"""The one loader for user files: --custom_register_path and --external_plugins."""
import ast
import importlib
import importlib.util
import os
import sys
from typing import Callable, Dict, Iterable, List

from swift.utils import ArgumentError, get_logger

logger = get_logger()
_LOADED: Dict[str, object] = {}
# name -> callable returning that registry's current keys; filled by the packages that own registries.
REGISTRY_VIEWS: Dict[str, Callable[[], Iterable[str]]] = {}


def _snapshot() -> Dict[str, set]:
    return {name: set(view()) for name, view in REGISTRY_VIEWS.items()}


def _registry_views():
    from swift.plugin import PLUGIN_REGISTRIES
    from swift.plugin.callback import extra_callback_names
    for kind, registry in PLUGIN_REGISTRIES.items():
        REGISTRY_VIEWS.setdefault(kind, registry.keys)
    REGISTRY_VIEWS.setdefault('extra_callbacks', extra_callback_names)


def _import_swift_modules_of(path: str) -> None:
    """Import the swift modules the file imports before the registries are snapshotted: built-ins they register
    on import (swift.tuners' optimizers, ...) are not the file's. Failures are left to the file's own import,
    which reports them with its line."""
    try:
        tree = ast.parse(open(path, encoding='utf-8').read(), path)
    except (SyntaxError, ValueError, OSError):
        return
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else []
        for name in names:
            if name == 'swift' or name.startswith('swift.'):
                try:
                    importlib.import_module(name)
                except Exception:  # the file's own import below reports it, with its line
                    pass


def _import_error(flag: str, path: str, e: Exception) -> ArgumentError:
    from swift.plugin.compat import plugin_line, unsupported_message
    line = plugin_line(e, path)
    where = f'{path}:{line}' if line else path
    unsupported = unsupported_message(e)
    if unsupported:
        return ArgumentError(f'--{flag} {where}: {unsupported}')
    return ArgumentError(f'--{flag} {where}: importing it failed: {type(e).__name__}: {e}')


def import_plugin_files(paths: List[str], flag: str) -> List[str]:
    """Import each .py file once; log what it registered; fail if it registered nothing. The callers import the
    packages owning model/template/dataset registries first, so their views are in REGISTRY_VIEWS."""
    if not paths:
        return []
    _registry_views()
    added_all = []
    for path in paths:
        path = os.path.abspath(os.path.expanduser(path))
        if path in _LOADED:
            continue
        if not os.path.isfile(path):
            raise ArgumentError(f'--{flag} {path}: file not found.')
        if not path.endswith('.py'):
            raise ArgumentError(f'--{flag} {path}: expected a .py file.')
        _import_swift_modules_of(path)
        before = _snapshot()
        name = f'swift_plugin_{len(_LOADED)}_{os.path.splitext(os.path.basename(path))[0]}'
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            sys.modules.pop(name, None)
            raise _import_error(flag, path, e) from e
        _LOADED[path] = module
        after = _snapshot()
        added = [f'{kind}: {", ".join(sorted(after[kind] - before.get(kind, set())))}' for kind in after
                 if after[kind] - before.get(kind, set())]
        if not added:
            raise ArgumentError(f'--{flag} {path}: the file registered nothing (expected calls such as '
                                f'register_model / register_template / register_dataset or a plugin registry).')
        logger.info(f'{os.path.basename(path)} registered {"; ".join(added)}')
        added_all.extend(added)
    return added_all
