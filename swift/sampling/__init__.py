"""Sampling (`swift sample`): samplers over any InferEngine (sample, mcts, distill), ORM/PRM scoring, the
--data_range shard function, and output/cache files matched by row hash."""
from .mcts import MctsSampler
from .output import OutputFile, read_cache
from .prm import RewardModelPRM, split_steps
from .rows import output_row, row_id, shard_rows, split_prompt
from .samplers import SampleSampler, request_config
from .scoring import Scored, Scorer, build_orm, build_prm, select

SAMPLERS = {'sample': SampleSampler, 'distill': SampleSampler, 'mcts': MctsSampler}

__all__ = ['MctsSampler', 'OutputFile', 'read_cache', 'RewardModelPRM', 'split_steps', 'output_row', 'row_id',
           'shard_rows', 'split_prompt', 'SampleSampler', 'request_config', 'Scored', 'Scorer', 'build_orm',
           'build_prm', 'select', 'SAMPLERS']
