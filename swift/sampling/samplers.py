"""Samplers: `sampler.sample(rows) -> list of candidates per row` (each a list of (text, orm score or None));
the pipeline scores, filters and writes them."""
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

from .rows import row_seed, split_prompt

Candidates = List[Tuple[str, Optional[float]]]


def request_config(args, **overrides):
    from swift.infer import RequestConfig
    config = RequestConfig(max_tokens=args.max_new_tokens, temperature=args.temperature, top_k=args.top_k,
                           top_p=args.top_p, repetition_penalty=args.repetition_penalty, stop=list(args.stop_words))
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


class SampleSampler:
    """`--num_return_sequences` completions per prompt in one request each (`n`), batched by the engine.
    Also the distill sampler: the engine is then a teacher behind `--sampler_engine client`."""

    def __init__(self, engine, args, scorer=None):
        self.engine, self.args, self.scorer = engine, args, scorer

    def _requests(self, rows: List[Dict[str, Any]]):
        from swift.infer import InferRequest
        return [InferRequest(split_prompt(r)[0], tools=r.get('tools') or None) for r in rows]

    def sample(self, rows: List[Dict[str, Any]]) -> List[Candidates]:
        """Each row with its own seed (row_seed); the rows of a batch go to the engine together, which batches
        them (one request per thread: an engine call takes one request config)."""
        args = self.args
        jobs = [(req, request_config(args, n=args.num_return_sequences, seed=row_seed(args.seed, row['id'])))
                for req, row in zip(self._requests(rows), rows)]
        if len(jobs) == 1:
            responses = [self.engine.infer([jobs[0][0]], jobs[0][1])[0]]
        else:
            with ThreadPoolExecutor(len(jobs)) as pool:
                responses = list(pool.map(lambda job: self.engine.infer([job[0]], job[1])[0], jobs))
        return [[(c.message.content or '', None) for c in r.choices] for r in responses]
