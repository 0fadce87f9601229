"""ms-swift 3.x command lines, copied from its own examples/ (ms_swift_examples.jsonl names each source file and
commit), parse and validate unchanged, or fail only on flags docs/arguments.md lists with the reason.

Shell variables are replaced by the values the scripts set: `$(expr 16 / $nproc_per_node)` by the quotient,
`NPROC_PER_NODE=n` by WORLD_SIZE=n (what torchrun gives each process); a long `$SYSTEM_PROMPT` by a short one.
"""
import functools
import json
import os
import re
import shlex

import pytest

from swift.arguments import parse_args
from swift.utils import ArgumentError
from .test_field_readers import args_class

HERE = os.path.dirname(__file__)
GPU_ONLY = {'--use_vllm'}
DOCS = os.path.join(HERE, '..', '..', 'docs', 'arguments.md')
with open(os.path.join(HERE, 'ms_swift_examples.jsonl'), encoding='utf-8') as f:
    EXAMPLES = [json.loads(line) for line in f if line.strip()]


def _drop(argv, flag):
    i = argv.index(flag)
    j = i + 1
    while j < len(argv) and not argv[j].startswith('--'):
        j += 1
    return argv[:i] + argv[j:]


def refused_flags(line: str):
    """Parse + validate; on an error, note the flag it names, drop that flag and try again."""
    command, *argv = shlex.split(line)
    cls, refused = args_class(command), []
    for _ in range(10):
        try:
            parse_args(cls, argv, prog=f'swift {command}').validate()
            return refused
        except ArgumentError as e:
            message = str(e)
            assert '\n' not in message and 'Traceback' not in message
            flag = '--' + re.search(r'--(\w+)', message).group(1)
            refused.append(flag)
            if flag in GPU_ONLY:
                return refused  # the rest of the line (its vllm_* knobs) needs that GPU too
            argv = _drop(argv, flag)
    raise AssertionError(f'more than 10 refused flags in {line}')


@functools.lru_cache(maxsize=None)
def _documented_refusals():
    text = open(DOCS, encoding='utf-8').read()
    section = text.split('## ms-swift flags refused here', 1)[1].split('\n## ', 1)[0]
    return set(re.findall(r'^\| `(--\w+)', section, flags=re.M))


def test_corpus_covers_every_command_family():
    commands = {shlex.split(e['line'])[0] for e in EXAMPLES}
    assert commands == {'sft', 'rlhf', 'infer', 'deploy', 'export'} and len(EXAMPLES) >= 40
    assert all(e['source'].startswith('modelscope/ms-swift examples/') for e in EXAMPLES)


@pytest.mark.parametrize('example', EXAMPLES, ids=[f'{i}:{e["source"].split()[1]}' for i, e in enumerate(EXAMPLES)])
def test_example_parses_or_fails_only_on_documented_flags(example, monkeypatch):
    monkeypatch.setenv('WORLD_SIZE', example.get('env', {}).get('WORLD_SIZE', '1'))
    refused = refused_flags(example['line'])
    assert refused == example['refused']
    assert set(refused) <= _documented_refusals(), 'document each refused flag in docs/arguments.md'


def test_aliases_are_logged_once(caplog):
    import logging
    from swift.arguments import parser
    from swift.arguments.train_args import SftArguments
    parser._logged_aliases.discard('init_lora_weights')
    with caplog.at_level(logging.INFO, logger='swift'):
        for _ in range(2):
            a = parse_args(SftArguments, ['--model', 'm', '--init_lora_weights', 'pissa', '--agent_template', 'hermes'])
    assert a.init_weights == 'pissa' and a.tools_prompt == 'hermes'
    lines = [r.getMessage() for r in caplog.records if 'init_lora_weights' in r.getMessage()]
    assert lines == ['--init_lora_weights is read as --init_weights (the name this version documents).']


def test_grpo_default_eval_batch_holds_whole_groups(tmp_path, monkeypatch):
    """`--num_generations 2 --per_device_train_batch_size 2` with the default split_dataset_ratio used to die in
    trl's GRPOConfig ('The global eval batch size (1 * 1) must be divisible by ...')."""
    from swift.arguments.rlhf_args import RLHFArguments
    monkeypatch.setenv('WORLD_SIZE', '1')
    base = ['--rlhf_type', 'grpo', '--model', 'swift/tiny-qwen2', '--reward_funcs', 'accuracy', '--num_generations',
            '2', '--per_device_train_batch_size', '2', '--output_dir', str(tmp_path), '--add_version', 'false']
    args = parse_args(RLHFArguments, base)
    args.validate()
    args.resolve()
    assert args.split_dataset_ratio > 0 and args.per_device_eval_batch_size == 2
    from trl import GRPOConfig
    from swift.trainers.rlhf.build import trl_config
    cpu = {'use_cpu': True, 'bf16': False, 'fp16': False, 'report_to': 'none'}
    config = trl_config(args, GRPOConfig, cpu, num_generations=2)  # trl's own divisibility checks run here
    assert config.do_eval and config.eval_strategy != 'no' and config.per_device_eval_batch_size == 2
    with pytest.raises(ArgumentError, match=r'--per_device_eval_batch_size 3 .* multiple of --num_generations 2'):
        parse_args(RLHFArguments, base + ['--per_device_eval_batch_size', '3']).validate()
