"""The layering of docs/architecture.md, checked on every module's AST (function-level imports included):
only the orchestrators import `swift.pipelines`, and the `swift/` subpackages import each other without cycles."""
import ast
import os
from collections import defaultdict
from typing import Dict, Iterator, Set, Tuple

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'swift')
# Who may import swift.pipelines: the pipelines themselves, the CLI route table, and the ms-swift `swift.llm`
# compatibility surface.
PIPELINE_USERS = {'pipelines', 'cli', 'llm'}


def _modules() -> Iterator[Tuple[str, str]]:
    """(dotted module name, path) of every module under swift/."""
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, os.path.join(ROOT, '..'))[:-3].replace(os.sep, '.')
                yield rel[:-len('.__init__')] if rel.endswith('.__init__') else rel, path


def _imports(module: str, path: str) -> Iterator[Tuple[str, int]]:
    """Absolute names of everything `module` imports, with line numbers."""
    is_package = path.endswith('__init__.py')
    tree = ast.parse(open(path, encoding='utf-8').read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split('.')
                base = parts[:len(parts) - node.level + (1 if is_package else 0)]
                name = '.'.join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            yield name, node.lineno
            for alias in node.names:  # `from swift import pipelines`
                yield f'{name}.{alias.name}', node.lineno


def _subpackage(name: str) -> str:
    parts = name.split('.')
    return parts[1] if len(parts) > 1 and parts[0] == 'swift' else ''


def _graph() -> Tuple[Dict[str, Set[str]], Dict[Tuple[str, str], str]]:
    edges, where = defaultdict(set), {}
    packages = {d for d in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, d)) and d != '__pycache__'}
    for module, path in _modules():
        source = _subpackage(module)
        for name, line in _imports(module, path):
            target = _subpackage(name)
            if source and target in packages and target != source:
                edges[source].add(target)
                where.setdefault((source, target), f'{os.path.relpath(path, ROOT)}:{line} imports {name}')
    return edges, where


def test_only_orchestrators_import_pipelines():
    offenders = []
    for module, path in _modules():
        if _subpackage(module) in PIPELINE_USERS:
            continue
        for name, line in _imports(module, path):
            if name == 'swift.pipelines' or name.startswith('swift.pipelines.'):
                offenders.append(f'{os.path.relpath(path, ROOT)}:{line} imports {name}')
    assert not offenders, 'only swift/pipelines, swift/cli and swift/llm may import swift.pipelines:\n' + \
        '\n'.join(offenders)


def test_no_import_cycle_between_subpackages():
    edges, where = _graph()
    cycles = []

    def visit(node, stack):
        for target in sorted(edges.get(node, ())):
            if target in stack:
                cycle = stack[stack.index(target):] + [target]
                steps = '; '.join(where[(a, b)] for a, b in zip(cycle, cycle[1:]))
                cycles.append(' -> '.join(cycle) + f'  ({steps})')
            elif target not in done:
                visit(target, stack + [target])
        done.add(node)

    done: Set[str] = set()
    for node in sorted(edges):
        if node not in done:
            visit(node, [node])
    assert not cycles, 'import cycles between swift/ subpackages:\n' + '\n'.join(sorted(set(cycles)))


def test_plugin_is_a_leaf():
    edges, where = _graph()
    assert edges.get('plugin', set()) <= {'utils'}, [where[('plugin', t)] for t in edges['plugin'] - {'utils'}]


def test_the_checker_sees_function_level_imports(tmp_path):
    """The scan must catch an import hidden in a function body (as the old rlhf trainers had)."""
    path = tmp_path / 'mod.py'
    path.write_text('def f():\n    from swift.pipelines import train\n    from ...pipelines.base import to_args\n')
    names = [n for n, _ in _imports('swift.trainers.rlhf.mod', str(path))]
    assert 'swift.pipelines' in names and 'swift.pipelines.base' in names
