"""Two CPU processes (gloo) under torchrun: DDP, DeepSpeed ZeRO-2/3, two "nodes" on 127.0.0.1, sharded inference and
a killed launcher. Every run trains the tiny model a few steps, saves, and the output is reloaded in this process."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import psutil
import pytest
import torch
from peft import PeftModel

from swift.model import get_model_tokenizer
from swift.pipelines.sample import sample_main

pytestmark = pytest.mark.distributed
SWIFT = [sys.executable, '-m', 'swift.cli.main']
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOL = 1e-5
REWARD_PLUGIN = '''from swift.plugin import ORM, orms


class ShortAnswer(ORM):
    def __call__(self, completions, solution, **kwargs):
        return [1.0 / (1 + len(c)) for c in completions]


orms['short_answer'] = ShortAnswer
'''


def _env(**extra):
    env = dict(os.environ, OMP_NUM_THREADS='1', MASTER_PORT=str(29700 + os.getpid() % 200))
    env.pop('WORLD_SIZE', None)
    env.update(extra)
    return env


def swift(command, args, nproc=2, timeout=600, **env):
    env = _env(**({'NPROC_PER_NODE': str(nproc)} if nproc > 1 else {}), **env)
    proc = subprocess.run(SWIFT + [command] + [str(a) for a in args], capture_output=True, text=True, env=env,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def losses(output_dir):
    with open(os.path.join(output_dir, 'logging.jsonl'), encoding='utf-8') as f:
        return [row['loss'] for row in map(json.loads, f) if 'loss' in row]


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """Rows of identical token length, so a mean over two ranks equals the mean over one batch of two."""
    path = tmp_path_factory.mktemp('data') / 'add.jsonl'
    with open(path, 'w', encoding='utf-8') as f:
        for i in range(16):
            a, b = 10 + i, 20 + i
            f.write(json.dumps({'messages': [{'role': 'user', 'content': f'What is {a}+{b}?'},
                                             {'role': 'assistant', 'content': str(a + b)}]}) + '\n')
    return str(path)


def sft_args(data, out, *extra, steps=4):
    return ['--model', 'swift/tiny-qwen2', '--dataset', data, '--output_dir', out, '--add_version', 'false',
            '--report_to', 'none', '--split_dataset_ratio', '0', '--save_strategy', 'no', '--logging_steps', '1',
            '--max_steps', steps, '--learning_rate', '1e-3', '--lora_dropout', '0', '--plot_loss', 'false', *extra]


@torch.no_grad()
def logits(path, adapter=True):
    model, tokenizer = get_model_tokenizer('swift/tiny-qwen2' if adapter else path, 'float32')
    if adapter:
        model = PeftModel.from_pretrained(model, path)
    ids = torch.tensor([tokenizer.encode('What is 12+34? 46')])
    return model.eval()(input_ids=ids).logits


@pytest.fixture(scope='module')
def ddp_run(data, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('ddp'))
    proc = swift('sft', sft_args(data, out))
    assert '[swift] launch plan:' in proc.stdout and 'engine: data parallel (DDP)' in proc.stdout
    return out


def test_ddp_losses_equal_one_process_with_twice_the_batch(ddp_run, data, tmp_path):
    swift('sft', sft_args(data, str(tmp_path), '--per_device_train_batch_size', '2'), nproc=1)
    two, one = losses(ddp_run), losses(str(tmp_path))
    assert len(two) == len(one) == 4 and len(set(one)) == 4  # the model learns, steps differ
    assert max(abs(a - b) for a, b in zip(two, one)) < TOL, (two, one)
    assert logits(ddp_run).isfinite().all()  # the DDP adapter reloads in one process


@pytest.fixture(scope='module')
def zero3_run(data, tmp_path_factory):
    full = str(tmp_path_factory.mktemp('zero3'))
    proc = swift('sft', sft_args(data, full, '--deepspeed', 'zero3', '--save_strategy', 'steps', '--save_steps', 2))
    assert 'engine: DeepSpeed ZeRO-3 (zero3)' in proc.stdout
    return full


def test_zero3_consolidated_adapter_matches_ddp(ddp_run, zero3_run):
    assert (logits(os.path.join(zero3_run, 'checkpoint-4')) - logits(ddp_run)).abs().max().item() < TOL


def test_zero3_checkpoint_resumes(zero3_run, data, tmp_path):
    ckpt = os.path.join(zero3_run, 'checkpoint-2')
    assert any(name.startswith('global_step') for name in os.listdir(ckpt))  # DeepSpeed's sharded states
    resumed = str(tmp_path)
    swift('sft', sft_args(data, resumed, '--deepspeed', 'zero3', '--resume_from_checkpoint', ckpt))
    assert max(abs(a - b) for a, b in zip(losses(resumed), losses(zero3_run)[2:])) < TOL
    assert (logits(resumed) - logits(os.path.join(zero3_run, 'checkpoint-4'))).abs().max().item() < TOL


def test_two_nodes_on_localhost_equal_one_two_process_node(ddp_run, data, tmp_path):
    env = _env(NNODES='2', NPROC_PER_NODE='1', MASTER_ADDR='127.0.0.1')
    nodes = [subprocess.Popen(SWIFT + ['sft'] + [str(a) for a in sft_args(data, str(tmp_path))],
                              env=dict(env, NODE_RANK=str(rank)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for rank in (0, 1)]
    outputs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    assert 'world size 2 = 2 node(s) x 1 process(es); this node rank 1' in outputs[1]
    assert max(abs(a - b) for a, b in zip(losses(str(tmp_path)), losses(ddp_run))) < TOL


@pytest.mark.parametrize('command,train_type,stage',
                         [('sft', 'full', None), ('sft', 'full', 'zero2'), ('sft', 'full', 'zero3'),
                          ('pt', 'lora', 'zero2')])
def test_zero_runs_save_and_reload(data, tmp_path, command, train_type, stage):
    engine = ['--deepspeed', stage] if stage else []  # None: plain DDP
    # ZeRO-3 with an empty cache: the built-in model is built inside the run, whole (not as empty partitions)
    cache = {'SWIFT_CACHE': str(tmp_path / 'fresh-cache')} if stage == 'zero3' else {}
    out = str(tmp_path / 'out')
    proc = swift(command, sft_args(data, out, '--train_type', train_type, *engine, steps=2), **cache)
    if stage == 'zero3':  # partitioned as it loads (zero.Init), not loaded whole on each rank first
        held = re.findall(r'ZeRO-3 after loading: rank (\d) holds [\d,]+ of [\d,]+ parameter elements '
                          r'\(([\d.]+)%\)', proc.stderr)
        assert sorted(rank for rank, _ in held) == ['0', '1'], proc.stderr[-3000:]
        assert all(40 < float(share) < 60 for _, share in held), held
    assert len(losses(out)) == 2
    assert logits(out, adapter=train_type != 'full').isfinite().all()


@pytest.mark.parametrize('rlhf_type', ['dpo', 'grpo'])
def test_rlhf_zero2(tmp_path, rlhf_type):
    rows = [{'messages': [{'role': 'user', 'content': q}, {'role': 'assistant', 'content': 'Yes.'}],
             'rejected_response': 'No no no.', 'solution': 'Yes.'} for q in ('Hi?', 'Is fire hot?', 'Up?', 'Ok?')]
    data = tmp_path / 'rows.jsonl'
    data.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    plugin = tmp_path / 'reward.py'
    plugin.write_text(REWARD_PLUGIN)
    out = str(tmp_path / 'out')
    extra = ['--external_plugins', plugin, '--reward_funcs', 'short_answer', '--num_generations', 2,
             '--max_completion_length', 4] if rlhf_type == 'grpo' else []
    swift('rlhf', ['--rlhf_type', rlhf_type, *sft_args(str(data), out, '--deepspeed', 'zero2', *extra, steps=2)])
    assert len(losses(out)) == 2 and logits(out).isfinite().all()


def test_infer_shards_rows_and_writes_them_in_order(data, tmp_path):
    rows = tmp_path / 'five.jsonl'
    rows.write_text(''.join(open(data, encoding='utf-8').readlines()[:5]))

    def infer(nproc, name):
        path = tmp_path / name
        swift('infer', ['--model', 'swift/tiny-qwen2', '--val_dataset', rows, '--max_new_tokens', 4,
                        '--temperature', 0, '--result_path', path], nproc=nproc)
        return [json.loads(line) for line in path.read_text().splitlines()]
    two, one = infer(2, 'two.jsonl'), infer(1, 'one.jsonl')
    assert len(two) == 5 and two == one
    assert [r['labels'] for r in two] == [str(30 + 2 * i) for i in range(5)]  # the file's row order


def test_sample_shards_rows_like_one_process(data, tmp_path):
    """Each row has its own seed, so two ranks draw what one process draws; --data_range composes with ranks."""
    rows = tmp_path / 'five.jsonl'
    rows.write_text(''.join(open(data, encoding='utf-8').readlines()[:5]))

    def sample(nproc, name, *extra):
        argv = [str(a) for a in ['--model', 'swift/tiny-qwen2', '--dataset', rows, '--max_new_tokens', 4,
                                 '--num_return_sequences', 2, '--temperature', '1.5', '--output_dir', tmp_path,
                                 '--output_file', name, *extra]]
        log = swift('sample', argv).stdout if nproc > 1 else sample_main(argv)  # one process: in this one
        return log, [json.loads(line) for line in (tmp_path / name).read_text().splitlines()]
    log, two = sample(2, 'two.jsonl')
    _, one = sample(1, 'one.jsonl')
    assert 'on rank 1 of 2' in log and not list(tmp_path.glob('two.jsonl.partial*'))
    assert len(two) == 10 and two == one
    assert len({r['messages'][-1]['content'] for r in one}) > 5  # really sampled, not greedy
    assert [r['messages'][0]['content'] for r in one[::2]] == [f'What is {10 + i}+{20 + i}?' for i in range(5)]
    _, block = sample(2, 'block.jsonl', '--data_range', 0, 2)  # rows 0-2, split over the two ranks
    assert block == one[:6]


def test_killing_the_launcher_leaves_no_worker(data, tmp_path):
    launcher = subprocess.Popen(SWIFT + ['sft'] + [str(a) for a in sft_args(data, str(tmp_path), steps=100000)],
                                env=_env(NPROC_PER_NODE='2'), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(launcher.pid)
    deadline = time.time() + 300
    while time.time() < deadline and not os.path.exists(tmp_path / 'logging.jsonl'):
        time.sleep(1)  # training has begun on both workers
    family = parent.children(recursive=True)
    assert len([p for p in family if 'swift.cli.main' in ' '.join(p.cmdline())]) >= 3  # torchrun + 2
    launcher.send_signal(signal.SIGKILL)
    launcher.wait()
    gone, alive = psutil.wait_procs(family, timeout=60)
    assert not alive, [p.cmdline() for p in alive]


RANK1_BUILDS = '''import os, sys
import torch.distributed as dist
import torch.multiprocessing as mp


def worker(rank, cache, port):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    if rank == 1:  # only rank 1 asks: transformers' save_pretrained writes nothing on a rank other than 0
        from swift.model.tiny import get_tiny_model_dir
        path = get_tiny_model_dir('swift/tiny-qwen2', cache_dir=cache)
        files = os.listdir(path)
        assert 'config.json' in files and any(f.endswith('.safetensors') for f in files), files
    dist.barrier()
    dist.destroy_process_group()


if __name__ == '__main__':
    mp.spawn(worker, args=(sys.argv[1], int(sys.argv[2])), nprocs=2)
'''


def test_builtin_model_built_by_rank_1_is_whole(tmp_path):
    script = tmp_path / 'rank1.py'
    script.write_text(RANK1_BUILDS)
    port = 29500 + os.getpid() % 150
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / 'cache'), str(port)], capture_output=True,
                          text=True, timeout=300, env=_env(PYTHONPATH=ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
