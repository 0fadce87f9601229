"""No silent flags: every declared field of every command is read by code that command runs, or refused.

The static half walks the AST of swift/: starting from the command's entry function (the route target) and its
argument classes, it follows every top-level function/class whose name is referenced (function-level imports
included, names over-approximated), and collects reads of `args.<field>`, `self.args.<field>`,
`swift_args.<field>`, `getattr(args, '<field>')` (and `self.<field>` inside swift/arguments, except in
`validate`: a check is not a reader). Fields read dynamically are listed in DYNAMIC_READERS with the function that
reads them, which must itself be reachable. A field nobody reads must be in the class's `rejected_fields` table:
the CLI half sets each one on the command line and expects exit code 2 with one line naming the flag.
"""
import ast
import dataclasses
import functools
import inspect
import os
import re
import subprocess
import sys
import typing
from typing import Dict, List, Set, Tuple

import pytest

import swift
from swift.cli.main import ROUTES, cli_main

SWIFT_DIR = os.path.dirname(swift.__file__)
ARGS_RECEIVERS = ('args', 'swift_args', 'a')  # `a = self.args` in the PPO trainer
# command -> (module, class) of its integrated arguments; every runnable route must be listed.
COMMANDS = {
    'sft': ('swift.arguments.train_args', 'SftArguments'),
    'pt': ('swift.arguments.train_args', 'PtArguments'),
    'rlhf': ('swift.arguments.rlhf_args', 'RLHFArguments'),
    'infer': ('swift.arguments.infer_args', 'InferArguments'),
    'deploy': ('swift.arguments.deploy_args', 'DeployArguments'),
    'export': ('swift.arguments.export_args', 'ExportArguments'),
    'merge-lora': ('swift.arguments.export_args', 'ExportArguments'),
    'eval': ('swift.arguments.eval_args', 'EvalArguments'),
    'sample': ('swift.arguments.sample_args', 'SampleArguments'),
    'app': ('swift.arguments.app_args', 'AppArguments'),
    'web-ui': ('swift.arguments.webui_args', 'WebUIArguments'),
}
NOT_ARGUMENT_COMMANDS = {'list'}  # `swift list` takes a positional kind, no dataclass
# Commands that refuse their unread fields inside validate() with swift/arguments/unused.py's reject_set, which
# this scan cannot see; moving those tables into `rejected_fields` brings them under this test.
REFUSE_IN_VALIDATE = {'eval': 'EvalArguments', 'sample': 'SampleArguments', 'app': 'AppArguments',
                      'web-ui': 'WebUIArguments'}
# Fields owned by engineers working on them now; each entry names the owner. Remove entries as they land.
OWNED_ELSEWHERE = {}


def _trainer_fields(cls_name: str):
    def names() -> Set[str]:
        import transformers
        # TrainArguments.training_args() forwards them all but pins remove_unused_columns to False.
        return {f.name for f in dataclasses.fields(getattr(transformers, cls_name))} - {'remove_unused_columns'}
    names.__name__ = f'fields_of_{cls_name}'
    return names


def _reward_init_params() -> Set[str]:
    from swift.plugin import orms
    names = set()
    for name in orms.keys():
        entry = orms.get(name)
        if inspect.isclass(entry):
            names |= set(inspect.signature(entry.__init__).parameters) - {'self', 'args', 'kwargs', 'tokenizer'}
    return names


# (module, top-level function or class that reads them, the field names it reads by computed name)
DYNAMIC_READERS = [
    # sft/pt: Seq2SeqTrainer(args=args.training_args()) reads every Seq2SeqTrainingArguments field.
    ('swift.pipelines.sft', 'SwiftSft', _trainer_fields('Seq2SeqTrainingArguments')),
    # rlhf: trl_config() copies the TrainingArguments fields into the trl config (no Seq2Seq generation fields).
    ('swift.trainers.rlhf.build', 'trl_config', _trainer_fields('TrainingArguments')),
    # GRPO: build_reward_func() passes args.<param> for each __init__ parameter of a registered reward class.
    ('swift.trainers.rlhf.grpo', 'build_reward_func', _reward_init_params),
]


# ---------------------------------------------------------------------------------------------------- scanner
@functools.lru_cache(maxsize=None)
def _modules() -> Dict[str, ast.Module]:
    out = {}
    for dirpath, _, files in os.walk(SWIFT_DIR):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(dirpath, name)
                mod = 'swift.' + os.path.relpath(path, SWIFT_DIR)[:-3].replace(os.sep, '.')
                mod = mod[:-len('.__init__')] if mod.endswith('.__init__') else mod
                with open(path, encoding='utf-8') as f:
                    out[mod] = (ast.parse(f.read()), name == '__init__.py')
    return out


def _imports(mod: str) -> Set[str]:
    tree, is_pkg = _modules()[mod]
    package = mod if is_pkg else mod.rpartition('.')[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                base = '.'.join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f'{base}.{a.name}' for a in node.names)
    found = set()
    for name in names:
        while name:
            if name in _modules():
                found.add(name)
            name = name.rpartition('.')[0]
    return found


def _closure(start: List[str]) -> Set[str]:
    seen, todo = set(), list(start)
    while todo:
        mod = todo.pop()
        if mod not in seen:
            seen.add(mod)
            todo += _imports(mod)
    return seen


def _is_args(node, in_arguments: bool) -> bool:
    if isinstance(node, ast.Name):
        return node.id in ARGS_RECEIVERS or (in_arguments and node.id == 'self')
    return isinstance(node, ast.Attribute) and node.attr in ('args', 'swift_args')


def _imported_names(tree: ast.Module) -> Set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((a.asname or a.name).split('.')[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def _root(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _scan(node, in_arguments: bool, imported: Set[str]) -> Tuple[Set[str], Set[str]]:
    """(names referenced, argument fields read) inside `node`. `x.name` references `name` only when `x` is an
    imported name (a module alias such as `from swift.pipelines import train as steps`): `trainer.train()` on an
    object, or a local variable `train`, does not pull in every top-level function called `train`."""
    refs, local, reads, stack = set(), set(), set(), [node]
    while stack:
        n = stack.pop()
        if in_arguments and n is not node and isinstance(n, ast.FunctionDef) and re.match(r'_?validate', n.name):
            continue
        if isinstance(n, ast.Name):
            (refs if isinstance(n.ctx, ast.Load) else local).add(n.id)
        elif isinstance(n, ast.arg):
            local.add(n.arg)
        elif isinstance(n, ast.Attribute):
            if _root(n.value) in imported or (in_arguments and _root(n.value) == 'self'):
                refs.add(n.attr)
            if isinstance(n.ctx, ast.Load) and _is_args(n.value, in_arguments):
                reads.add(n.attr)
        elif (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ('getattr', 'hasattr')
              and len(n.args) > 1 and isinstance(n.args[1], ast.Constant) and _is_args(n.args[0], in_arguments)):
            reads.add(n.args[1].value)
        stack.extend(ast.iter_child_nodes(n))
    return refs - local, reads  # a local variable `train` is not a call of the function train()


@functools.lru_cache(maxsize=None)
def _units(mod: str) -> Dict[str, List[Tuple[Set[str], Set[str]]]]:
    """Top-level function/class name -> [(refs, reads)]; module-level statements count for each of them."""
    tree, _ = _modules()[mod]
    in_arguments = mod.startswith('swift.arguments')
    top = ast.Module(body=[n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))
                           and not (isinstance(n, ast.If) and '__main__' in ast.dump(n.test))], type_ignores=[])
    imported = _imported_names(tree)
    top_refs, top_reads = _scan(top, in_arguments, imported)
    units: Dict[str, list] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            refs, reads = _scan(node, in_arguments, imported)
            units.setdefault(node.name, []).append((refs | top_refs, reads | top_reads))
    return units


def reachable_reads(entry: str, args_module: str, pipelines_only: bool = False):
    """(fields read, (module, unit) pairs reached) for the route target `module:function`; with pipelines_only,
    reads inside swift/arguments (dependent defaults of the argument classes themselves) are left out."""
    entry_module, entry_func = entry.split(':')
    table: Dict[str, list] = {}
    for mod in _closure([entry_module, args_module]):
        for name, units in _units(mod).items():
            table.setdefault(name, []).extend((mod, unit) for unit in units)
    todo = [entry_func] + [name for mod in _closure([args_module]) if mod.startswith('swift.arguments')
                           for name in _units(mod)]
    seen, reads, reached = set(), set(), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for mod, (refs, unit_reads) in table.get(name, []):
            reached.add((mod, name))
            if not (pipelines_only and mod.startswith('swift.arguments')):
                reads |= unit_reads
            todo += refs
    return reads, reached


def args_class(command: str):
    import importlib
    module, name = COMMANDS[command]
    return getattr(importlib.import_module(module), name)


def owner_of(field: str):
    return next((owner for pattern, owner in OWNED_ELSEWHERE.items() if re.search(pattern, field)), None)


def unread_fields(command: str, cls=None) -> List[str]:
    reads, reached = reachable_reads(ROUTES[command].target, COMMANDS[command][0])
    cls = cls or args_class(command)
    for module, unit, names in DYNAMIC_READERS:
        if (module, unit) in reached:
            reads |= names()
    rejected = cls.rejections()
    return [f.name for f in dataclasses.fields(cls)
            if f.name not in reads and f.name not in rejected and not owner_of(f.name)]


# ---------------------------------------------------------------------------------------------------- tests
def test_every_runnable_command_is_covered():
    runnable = {name for name, route in ROUTES.items() if route.target} - NOT_ARGUMENT_COMMANDS
    assert runnable == set(COMMANDS) | set(REFUSE_IN_VALIDATE), 'add the new command and its class to COMMANDS'


@pytest.mark.parametrize('command', sorted(COMMANDS))
def test_every_field_is_read_or_rejected(command):
    unread = unread_fields(command)
    assert not unread, (f'`swift {command}` declares fields nothing reads: {unread}. Read them, or add them to '
                        f'{args_class(command).__name__}.rejected_fields with the reason.')


@pytest.mark.parametrize('command', sorted(COMMANDS))
def test_rejected_fields_are_declared_and_unread(command):
    cls = args_class(command)
    names = {f.name for f in dataclasses.fields(cls)}
    reads, _ = reachable_reads(ROUTES[command].target, cls.__module__, pipelines_only=True)
    for field in cls.rejections():  # (a refused value stops the command before resolve() could use it)
        assert field in names, f'{cls.__name__}.rejected_fields names {field}, which is no field'
        assert field not in reads, f'`swift {command}` reads {field}, yet refuses it: drop it from the table'


def test_dynamic_readers_exist_and_are_reached():
    reached = set()
    for command in COMMANDS:
        reached |= reachable_reads(ROUTES[command].target, COMMANDS[command][0])[1]
    for module, unit, names in DYNAMIC_READERS:
        assert unit in _units(module), f'{module}.{unit} is gone: update DYNAMIC_READERS'
        assert (module, unit) in reached and names(), f'no command reaches {module}.{unit}'


def test_scanner_catches_a_new_unread_field():
    from swift.arguments.infer_args import InferArguments

    @dataclasses.dataclass
    class WithNewField(InferArguments):
        zz_brand_new_flag: int = 3

    assert unread_fields('infer', WithNewField) == ['zz_brand_new_flag']
    WithNewField.rejected_fields = {'zz_brand_new_flag': 'not supported.'}
    assert unread_fields('infer', WithNewField) == []


def _non_default(field: dataclasses.Field) -> List[str]:
    """A command-line value different from the field's default."""
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    union = typing.get_origin(field.type) in (typing.Union, getattr(__import__('types'), 'UnionType', None))
    members = [m for m in typing.get_args(field.type) if m is not type(None)] if union else [field.type]
    literal = next((m for m in members if typing.get_origin(m) is typing.Literal), None)
    if literal is not None:
        return [next(str(c) for c in typing.get_args(literal) if c != default)]
    if isinstance(default, bool) or bool in members:
        return ['false' if default else 'true']
    if isinstance(default, list) or any(typing.get_origin(m) in (list, List) for m in members):
        return ['7']
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        return [str(default + 1)]
    if int in members or float in members:
        return ['7']
    return ['some_value']


def _rejected_cases():
    cases = []
    for command in sorted(COMMANDS):
        cls = args_class(command)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        cases += [(command, name, _non_default(fields[name])) for name in sorted(cls.rejections())]
    return cases


@pytest.mark.parametrize('command,field,value', _rejected_cases())
def test_rejected_flag_exits_2_with_one_line(command, field, value, capsys):
    code = cli_main([command, '--model', 'swift/tiny-qwen2', f'--{field}', *value])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith(f'swift {command}: error: --{field} ') and 'Traceback' not in err[0]
    assert 'drop' in err[0] or 'not supported' in err[0], err[0]


def test_norm_bbox_none_parses_and_is_refused(capsys):
    assert cli_main(['sft', '--model', 'swift/tiny-qwen2', '--norm_bbox', 'none']) == 2
    assert 'error: --norm_bbox none: not supported' in capsys.readouterr().err


def test_rejection_is_one_line_without_traceback_in_a_subprocess():
    proc = subprocess.run([sys.executable, '-m', 'swift.cli.main', 'deploy', '--model', 'swift/tiny-qwen2',
                           '--dataset', 'data.jsonl'], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if 'error' in line]
    assert lines == [line for line in proc.stderr.splitlines() if line.startswith('swift deploy')]
    assert len(lines) == 1 and '--dataset data.jsonl: not read by swift deploy' in lines[0]
    assert 'Traceback' not in proc.stderr


# ------------------------------------------------------------------------------------- read only in some modes
@pytest.mark.parametrize('argv,flag', [
    (['infer', '--infer_backend', 'pt', '--gpu_memory_utilization', '0.5'], '--gpu_memory_utilization'),
    (['infer', '--infer_backend', 'vllm', '--max_batch_size', '4'], '--max_batch_size'),
    (['deploy', '--infer_backend', 'vllm', '--quant_policy', '8'], '--quant_policy'),
    (['sft', '--temperature', '0.7'], '--temperature'),
    (['pt', '--max_new_tokens', '9'], '--max_new_tokens'),
    (['rlhf', '--max_new_tokens', '9'], '--max_new_tokens'),
    (['rlhf', '--rlhf_type', 'grpo', '--reward_funcs', 'accuracy', '--num_generations', '2',
      '--per_device_train_batch_size', '2', '--vllm_mode', 'server'], '--vllm_mode'),
])
def test_flags_of_another_mode_are_refused(argv, flag, capsys):
    assert cli_main(argv[:1] + ['--model', 'swift/tiny-qwen2'] + argv[1:]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f'error: {flag} ' in err[0]


def test_generation_flags_with_predict_with_generate_are_accepted():
    from swift.arguments import SftArguments, parse_args
    parse_args(SftArguments, ['--model', 'm', '--predict_with_generate', 'true', '--temperature', '0.7']).validate()


def test_check_model_names_a_missing_shard_before_loading(tmp_path, capsys):
    import json
    from swift.model import check_model_files
    from swift.utils import ModelError
    (tmp_path / 'config.json').write_text('{}')
    (tmp_path / 'model-00001-of-00002.safetensors').write_bytes(b'')
    index = {'weight_map': {'a': 'model-00001-of-00002.safetensors', 'b': 'model-00002-of-00002.safetensors'}}
    (tmp_path / 'model.safetensors.index.json').write_text(json.dumps(index))
    with pytest.raises(ModelError, match='lists model-00002-of-00002.safetensors, which is missing'):
        check_model_files(str(tmp_path))
    data = tmp_path / 'data.jsonl'  # valid data, so only the model check can fail
    data.write_text(json.dumps({'messages': [{'role': 'user', 'content': 'hi'},
                                             {'role': 'assistant', 'content': 'hello'}]}) + '\n')
    assert cli_main(['sft', '--model', str(tmp_path), '--dataset', str(data)]) == 1
    assert 'model-00002-of-00002.safetensors, which is missing' in capsys.readouterr().err
    (tmp_path / 'model-00002-of-00002.safetensors').write_bytes(b'')
    check_model_files(str(tmp_path))  # complete: no error
