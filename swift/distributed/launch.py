"""The torchrun launch plan: NPROC_PER_NODE, NNODES, NODE_RANK, MASTER_ADDR and MASTER_PORT checked and passed
straight to torchrun, and the plan (command line, world size, sharding engine) printed before launching."""
import os
import shlex
import socket
import sys
from dataclasses import dataclass
from typing import List, Mapping, Optional

from swift.utils import ArgumentError
from .deepspeed import describe

ENV_VARS = ('NPROC_PER_NODE', 'NNODES', 'NODE_RANK', 'MASTER_ADDR', 'MASTER_PORT')


def _int_env(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    text = env.get(name)
    if text is None or text == '':
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ArgumentError(f'{name}={text}: expected an integer >= {minimum}, e.g. {name}={max(minimum, 1)}.')
    return value


def _port_in_use(addr: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the TCPStore does
            sock.bind((addr, port))
        except OSError:
            return True
    return False


def engine(command: str, args=None) -> str:
    """Which engine shards the work: a DeepSpeed ZeRO stage, FSDP, DDP, or rows split across ranks."""
    deepspeed, fsdp = getattr(args, 'deepspeed', None), getattr(args, 'fsdp', None)
    if deepspeed:
        return f'DeepSpeed {describe(deepspeed)}'
    if fsdp:
        return f'FSDP ({fsdp})'
    return 'data parallel (DDP)' if command in ('sft', 'pt', 'rlhf') else 'dataset rows sharded across ranks'


@dataclass
class LaunchPlan:
    nproc_per_node: int
    nnodes: int
    node_rank: int
    master_addr: str
    master_port: int
    command: str
    argv: List[str]

    @classmethod
    def from_env(cls, command: str, argv: List[str], env: Optional[Mapping[str, str]] = None) -> 'LaunchPlan':
        env = os.environ if env is None else env
        nproc = _int_env(env, 'NPROC_PER_NODE', 1, 1)
        nnodes = _int_env(env, 'NNODES', 1, 1)
        node_rank = _int_env(env, 'NODE_RANK', 0, 0)
        port = _int_env(env, 'MASTER_PORT', 29500, 1)
        if port > 65535:
            raise ArgumentError(f'MASTER_PORT={port}: a TCP port is at most 65535.')
        if node_rank >= nnodes:
            raise ArgumentError(f'NODE_RANK={node_rank} must be below NNODES={nnodes} (ranks count from 0).')
        addr = env.get('MASTER_ADDR') or ''
        if nnodes > 1 and not addr:
            raise ArgumentError(f'NNODES={nnodes} needs MASTER_ADDR: the address of the node with NODE_RANK=0.')
        return cls(nproc, nnodes, node_rank, addr or '127.0.0.1', port, command, list(argv))

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes

    def check_port(self) -> None:
        """The rendezvous store listens on MASTER_PORT of the rank-0 node: a busy port fails here, not in torchrun."""
        if self.node_rank == 0 and _port_in_use('', self.master_port):
            raise ArgumentError(f'MASTER_PORT={self.master_port} is already in use on {self.master_addr}: '
                                'set MASTER_PORT to a free port (e.g. MASTER_PORT=29501).')

    def torchrun_argv(self) -> List[str]:
        return [sys.executable, '-m', 'swift.distributed.torchrun', f'--nproc_per_node={self.nproc_per_node}',
                f'--nnodes={self.nnodes}', f'--node_rank={self.node_rank}', f'--master_addr={self.master_addr}',
                f'--master_port={self.master_port}', '-m', 'swift.cli.main', self.command] + self.argv

    def describe(self, args=None) -> str:
        """The plan as printed before launching; `args` (the parsed command arguments) name the engine."""
        return (f'[swift] launch plan: {shlex.join(self.torchrun_argv())}\n'
                f'  world size {self.world_size} = {self.nnodes} node(s) x {self.nproc_per_node} process(es); '
                f'this node rank {self.node_rank}; master {self.master_addr}:{self.master_port}\n'
                f'  engine: {engine(self.command, args)}')
