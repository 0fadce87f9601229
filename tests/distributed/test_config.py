"""Built-in DeepSpeed configs, the launch plan and the bad-input errors of scale-out flags (single process)."""
import json
import os
import socket
import subprocess
import sys

import pytest

from swift.distributed import DEEPSPEED_BUILTIN, load_deepspeed_config, resolve_deepspeed, zero_stage
from swift.distributed import deepspeed as ds
from swift.distributed.launch import LaunchPlan, engine
from swift.distributed.shard import RankShard, block_bounds, gather_in_order, shard_rows
from swift.sampling import shard_rows as sampling_shard
from swift.utils import ArgumentError

SWIFT = [sys.executable, '-m', 'swift.cli.main']
STAGES = {'zero0': 0, 'zero1': 1, 'zero2': 2, 'zero2_offload': 2, 'zero3': 3, 'zero3_offload': 3}


@pytest.mark.parametrize('name', DEEPSPEED_BUILTIN)
def test_builtin_configs_are_ms_swift_auto_configs(name):
    config = load_deepspeed_config(name)
    assert zero_stage(config) == STAGES[name]
    for key in ('train_batch_size', 'train_micro_batch_size_per_gpu', 'gradient_accumulation_steps',
                'gradient_clipping'):
        assert config[key] == 'auto'  # transformers fills these from the training arguments
    assert config['bf16'] == {'enabled': 'auto'} and config['fp16']['enabled'] == 'auto'
    offload = ds.offload_devices(config)
    assert (offload['optimizer'] == 'cpu') == (name == 'zero2_offload')
    assert (offload['param'] == 'cpu') == (name == 'zero3_offload')
    if STAGES[name] == 3:
        assert config['zero_optimization']['stage3_gather_16bit_weights_on_model_save'] is True


def test_builtin_configs_are_package_data():
    with open(os.path.join(os.path.dirname(__file__), '..', '..', 'pyproject.toml'), encoding='utf-8') as f:
        assert '"swift.distributed" = ["ds_config/*.json"]' in f.read()


def test_older_ms_swift_names_are_aliases():
    assert load_deepspeed_config('default-zero2') == load_deepspeed_config('zero2')
    assert zero_stage(load_deepspeed_config('default-zero3')) == 3


def test_path_and_json_string(tmp_path):
    path = tmp_path / 'ds.json'
    path.write_text(json.dumps({'zero_optimization': {'stage': 2}, 'train_batch_size': 'auto'}))
    assert zero_stage(load_deepspeed_config(str(path))) == 2
    assert zero_stage(load_deepspeed_config('{"zero_optimization": {"stage": 1}}')) == 1
    assert load_deepspeed_config({'zero_optimization': {'stage': 3}})['zero_optimization']['stage'] == 3


@pytest.mark.distributed  # needs the deepspeed extra, installed by `make test-extra`
def test_hpz_partition_size_goes_into_zero3_only():
    config = resolve_deepspeed('zero3', zero_hpz_partition_size=2)
    assert config['zero_optimization']['zero_hpz_partition_size'] == 2
    assert 'zero_hpz_partition_size' not in load_deepspeed_config('zero3')['zero_optimization']  # a copy
    with pytest.raises(ArgumentError, match='needs ZeRO stage 3'):
        resolve_deepspeed('zero2', zero_hpz_partition_size=2)
    with pytest.raises(ArgumentError, match='needs --deepspeed zero3'):
        resolve_deepspeed(None, zero_hpz_partition_size=2)


def test_bad_configs_fail_in_one_line(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"zero_optimization": {"stage": 2,,}')
    with pytest.raises(ArgumentError, match=r'bad.json: not valid JSON'):
        load_deepspeed_config(str(bad))
    with pytest.raises(ArgumentError, match='Did you mean: zero3'):
        load_deepspeed_config('zero_3')
    with pytest.raises(ArgumentError, match='must be a JSON object'):
        load_deepspeed_config('[1]')


def test_missing_deepspeed_package_names_the_extra(monkeypatch):
    monkeypatch.setattr(ds.importlib.util, 'find_spec', lambda name: None)
    with pytest.raises(ArgumentError, match=r"pip install -e '\.\[deepspeed\]'"):
        resolve_deepspeed('zero2')


@pytest.mark.parametrize('nproc', ['1', '2'])
def test_cli_without_deepspeed_installed_names_the_extra(nproc, tmp_path):
    """The real CLI in a Python where `import deepspeed` fails (sys.modules[name] = None is how Python marks a
    module as absent): one line naming the extra, in the launcher (NPROC_PER_NODE=2) or before weights load."""
    code = ('import sys; sys.modules["deepspeed"] = None; from swift.cli.main import cli_main; '
            'sys.exit(cli_main(sys.argv[1:]))')
    data = tmp_path / 'd.jsonl'
    data.write_text(json.dumps({'messages': [{'role': 'user', 'content': 'hi'},
                                             {'role': 'assistant', 'content': 'yo'}]}) + '\n')
    env = dict(os.environ, OMP_NUM_THREADS='1', NPROC_PER_NODE=nproc, MASTER_PORT='29632')
    proc = subprocess.run([sys.executable, '-c', code, 'sft', '--model', 'swift/tiny-qwen2', '--dataset', str(data),
                           '--deepspeed', 'zero2', '--output_dir', str(tmp_path / 'out')],
                          capture_output=True, text=True, timeout=300, env=env)
    _one_line_error(proc, "--deepspeed needs the deepspeed package: pip install -e '.[deepspeed]'")
    assert 'launch plan' not in proc.stdout and not (tmp_path / 'out').exists()


@pytest.mark.distributed  # make test-extra installs deepspeed; without it the run stops earlier (tested above)
def test_deepspeed_without_a_launcher_says_how_to_launch():
    pytest.importorskip('deepspeed')
    env = {k: v for k, v in os.environ.items() if k not in ('LOCAL_RANK', 'NPROC_PER_NODE', 'NNODES')}
    proc = subprocess.run(SWIFT + ['sft', '--model', 'swift/tiny-qwen2', '--dataset', 'swift/self-cognition#4',
                                   '--deepspeed', 'zero3'], capture_output=True, text=True, timeout=300, env=env)
    _one_line_error(proc, '--deepspeed runs under torchrun: set NPROC_PER_NODE')


def test_launch_plan_passes_env_straight_to_torchrun():
    env = {'NPROC_PER_NODE': '2', 'NNODES': '2', 'NODE_RANK': '1', 'MASTER_ADDR': '10.0.0.1', 'MASTER_PORT': '29555'}
    plan = LaunchPlan.from_env('sft', ['--deepspeed', 'zero3'], env)
    assert plan.world_size == 4
    argv = plan.torchrun_argv()
    for flag in ('--nproc_per_node=2', '--nnodes=2', '--node_rank=1', '--master_addr=10.0.0.1',
                 '--master_port=29555'):
        assert flag in argv
    text = plan.describe(type('A', (), {'deepspeed': 'zero3_offload', 'fsdp': None})())
    assert 'world size 4 = 2 node(s) x 2 process(es)' in text and 'ZeRO-3 (zero3_offload, param offloaded to cpu)' \
        in text and 'swift.distributed.torchrun --nproc_per_node=2' in text
    assert engine('infer') == 'dataset rows sharded across ranks'


@pytest.mark.parametrize('env,message', [
    ({'NPROC_PER_NODE': 'abc'}, 'NPROC_PER_NODE=abc: expected an integer >= 1'),
    ({'NPROC_PER_NODE': '2', 'MASTER_PORT': '99999'}, 'MASTER_PORT=99999'),
    ({'NNODES': '2'}, 'NNODES=2 needs MASTER_ADDR'),
    ({'NNODES': '2', 'NODE_RANK': '2', 'MASTER_ADDR': '127.0.0.1'}, 'NODE_RANK=2 must be below NNODES=2'),
])
def test_bad_launch_env(env, message):
    with pytest.raises(ArgumentError, match=message):
        LaunchPlan.from_env('sft', [], env)


def _run(args, **env):
    full = dict(os.environ, OMP_NUM_THREADS='1', **env)
    return subprocess.run(SWIFT + args, capture_output=True, text=True, timeout=300, env=full)


def _one_line_error(proc, text):
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if 'error' in line.lower()]
    assert len(lines) == 1 and text in lines[0], proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr


def test_cli_nproc_abc_and_port_in_use():
    _one_line_error(_run(['sft', '--model', 'swift/tiny-qwen2'], NPROC_PER_NODE='abc'), 'NPROC_PER_NODE=abc')
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _run(['sft', '--model', 'swift/tiny-qwen2'], NPROC_PER_NODE='2', MASTER_PORT=str(port))
    _one_line_error(proc, f'MASTER_PORT={port} is already in use')


def test_cli_bad_deepspeed_checked_by_the_launcher(tmp_path):
    """A bad --deepspeed fails once, in the launcher, before torchrun starts any worker."""
    proc = _run(['sft', '--model', 'swift/tiny-qwen2', '--dataset', 'x.jsonl', '--deepspeed', 'zero4'],
                NPROC_PER_NODE='2', MASTER_PORT='29631')
    _one_line_error(proc, "--deepspeed zero4: not a built-in config")
    assert 'Did you mean' in proc.stderr and 'launch plan' not in proc.stdout


@pytest.mark.parametrize('flags,message', [
    (['--fsdp', 'full_shard auto_wrap'], 'FSDP needs GPUs; use --deepspeed zero3 on CPU.'),
    (['--sequence_parallel_size', '2'], '--sequence_parallel_size > 1 needs GPUs'),
])
def test_gpu_only_engines_refuse_cpu_in_one_line(flags, message):
    pytest.importorskip('torch').cuda.is_available() and pytest.skip('has a GPU')
    _one_line_error(_run(['sft', '--model', 'swift/tiny-qwen2', '--dataset', 'swift/self-cognition#4', *flags]),
                    message)


def test_sequence_parallel_rejected_outside_training():
    _one_line_error(_run(['infer', '--model', 'swift/tiny-qwen2', '--sequence_parallel_size', '2']),
                    'applies to training')


def test_shard_blocks_cover_rows_in_order():
    rows = list(range(11))
    blocks = [shard_rows(rows, i, 3) for i in range(3)]
    assert [len(b) for b in blocks] == [4, 4, 3] and sum(blocks, []) == rows
    assert block_bounds(11, 2, 3) == (8, 11)
    assert sampling_shard(rows, [1, 3]) == blocks[1]  # --data_range takes the same blocks
    assert gather_in_order(rows, RankShard()) == rows


def test_memory_estimate_counts_and_shards():
    from transformers import AutoConfig
    from swift.distributed.memory import count_parameters, estimate_memory
    from swift.model import get_model_tokenizer
    model, tokenizer = get_model_tokenizer('swift/tiny-qwen2', 'float32')
    config = AutoConfig.from_pretrained(tokenizer.model_info.model_dir)
    counts = count_parameters(config, lora_rank=8)
    from peft import LoraConfig, get_peft_model
    peft_model = get_peft_model(model, LoraConfig(r=8, target_modules='all-linear'))
    assert counts['trainable'] == sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    common = dict(train_type='full', lora_rank=None, world_size=2, batch=1, length=64, dtype_bytes=4,
                  checkpointing=False, offload={})
    ddp, zero3 = estimate_memory(config, zero_stage=None, **common), estimate_memory(config, zero_stage=3, **common)
    assert zero3.parameters == ddp.parameters / 2 and zero3.gradients < ddp.gradients
    off = estimate_memory(config, zero_stage=3, **{**common, 'offload': {'param': 'cpu', 'optimizer': 'cpu'}})
    assert off.parameters == off.optimizer == 0
    assert 'fits in' in zero3.describe() and 'ZeRO-3, 2 rank(s)' in zero3.describe()
    zero2 = estimate_memory(config, zero_stage=2, **common)  # + the flat parameter copy and a gradient bucket
    assert ddp.buffers == 0 < zero3.buffers < zero2.buffers == 2 * 4 * counts_full(config)
    with_runtime = estimate_memory(config, zero_stage=3, runtime=2**30, **common)
    assert with_runtime.total == zero3.total + 2**30 and 'runtime 1.00' in with_runtime.describe()


def counts_full(config):
    from swift.distributed.memory import count_parameters
    return count_parameters(config, lora_rank=None)['trainable']
