"""Rank sharding for batch commands (`swift infer --val_dataset`, `swift sample`): each torchrun worker takes a
contiguous block of the rows, and rank 0 gets the results back in the original row order.

    shard = RankShard.from_env()            # rank/world size of this torchrun worker (0/1 outside torchrun)
    shard.init_process_group()              # gloo on CPU, nccl on GPU; no-op with one process
    mine = shard_rows(rows, shard.rank, shard.world_size)
    results = gather_in_order([work(r) for r in mine], shard)   # full list on rank 0, None elsewhere
"""
import os
from dataclasses import dataclass
from typing import List, Optional, Sequence, TypeVar

import torch

T = TypeVar('T')


def block_bounds(num_rows: int, index: int, count: int):
    """[start, stop) of block `index` of `count` contiguous blocks whose sizes differ by at most one, the larger
    first (datasets' `shard(contiguous=True)`, which ms-swift's --data_range uses; ours uses this function)."""
    if not 0 <= index < count:
        raise ValueError(f'block {index} out of range for {count} blocks')
    base, extra = divmod(num_rows, count)
    start = index * base + min(index, extra)
    return start, start + base + (1 if index < extra else 0)


def shard_rows(rows: Sequence[T], index: int, count: int) -> List[T]:
    start, stop = block_bounds(len(rows), index, count)
    return list(rows[start:stop])


@dataclass
class RankShard:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> 'RankShard':
        env = os.environ
        return cls(int(env.get('RANK', '0')), int(env.get('WORLD_SIZE', '1')), int(env.get('LOCAL_RANK', '0')))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self) -> Optional[str]:
        """This worker's GPU under torchrun (each rank its own), None on CPU."""
        return f'cuda:{self.local_rank}' if torch.cuda.is_available() else None

    def init_process_group(self, backend: Optional[str] = None) -> None:
        import torch.distributed as dist
        if self.world_size == 1 or dist.is_initialized():
            return
        backend = backend or ('nccl' if torch.cuda.is_available() else 'gloo')
        if backend == 'nccl':
            torch.cuda.set_device(self.local_rank)
        dist.init_process_group(backend=backend)

    def broadcast(self, value: T) -> T:
        """Rank 0's `value` on every rank (e.g. a timestamped output name all ranks must agree on)."""
        if self.world_size == 1:
            return value
        import torch.distributed as dist
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.world_size > 1:
            import torch.distributed as dist
            dist.barrier()

    def close(self) -> None:
        import torch.distributed as dist
        if self.world_size > 1 and dist.is_initialized():
            dist.destroy_process_group()


def gather_in_order(local_results: List[T], shard: RankShard) -> Optional[List[T]]:
    """Every rank's block concatenated by rank (= the original order of shard_rows blocks) on rank 0."""
    if shard.world_size == 1:
        return list(local_results)
    import torch.distributed as dist
    parts: List[Optional[List[T]]] = [None] * shard.world_size
    dist.all_gather_object(parts, (shard.rank, list(local_results)))
    if not shard.is_main:
        return None
    return [item for _, block in sorted(parts, key=lambda p: p[0]) for item in block]
