"""Scale-out glue over torchrun, DeepSpeed and accelerate: the launch plan, built-in DeepSpeed configs, FSDP and
sequence-parallel checks, and rank sharding with an ordered gather for batch commands (infer, sample)."""
from .deepspeed import BUILTIN as DEEPSPEED_BUILTIN
from .deepspeed import load_deepspeed_config, log_zero3_partition, resolve_deepspeed, zero_stage
from .parallel import check_training_args, training_overrides
from .shard import RankShard, gather_in_order, shard_rows
