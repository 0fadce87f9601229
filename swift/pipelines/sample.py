"""`swift sample`: dataset rows -> (shard) -> sampler over an engine -> ORM/PRM scores -> filtered rows in our
dataset format (messages with the best completion, optional rejected_response), ready for sft/rlhf."""
import dataclasses
import datetime as dt
import inspect
import time
from typing import Dict, List, Optional, Sequence, Union

from swift.arguments.sample_args import SampleArguments
from swift.utils import ArgumentError, get_logger
from .base import load_datasets, to_args

logger = get_logger()


def build_sampler_engine(args: SampleArguments):
    """The generating engine of --sampler_engine (None for `no`); --engine_kwargs go to its constructor."""
    kwargs = dict(args.engine_kwargs or {})
    if args.sampler_engine == 'no':
        return None
    if args.sampler_engine == 'client':
        from swift.eval import list_models, normalize_url
        from swift.infer import InferClient
        url, _ = normalize_url(args.base_url)
        models = list_models(url, args.api_key, '--base_url')  # unreachable servers fail here, in seconds
        _check_kwargs(InferClient.__init__, kwargs)
        client = InferClient(base_url=url, api_key=args.api_key, **kwargs)
        if args.model and args.model not in models:
            raise ArgumentError(f'--base_url {url} does not serve {args.model!r}; it serves {", ".join(models)}.')
        # --model picks the served model (default: the first listed); InferClient sends models[0]. Set here
        # because InferClient.models cannot be looked up from inside its own event loop.
        client._models = [args.model] + [m for m in models if m != args.model] if args.model else models
        return client
    if kwargs:  # engine settings are declared arguments: {"cache_max_entry_count": 0.7} sets that one
        from swift.arguments.infer_args import LmdeployArguments, VllmArguments
        known = {f.name for g in (VllmArguments, LmdeployArguments) for f in dataclasses.fields(g)}
        known.add('max_batch_size')
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise ArgumentError(f'--engine_kwargs {", ".join(unknown)}: not an engine setting; known: '
                                f'{", ".join(sorted(known))}.')
        args = dataclasses.replace(args, **kwargs)
    from .infer import build_engine
    return build_engine(args)


def _check_kwargs(fn, kwargs: Dict) -> None:
    params = set(inspect.signature(fn).parameters) - {'self'}
    unknown = sorted(set(kwargs) - params)
    if unknown:
        raise ArgumentError(f'--engine_kwargs {", ".join(unknown)}: not accepted; known: {", ".join(sorted(params))}.')


def build_scorer(args: SampleArguments):
    from swift.sampling import RewardModelPRM, Scorer, build_orm, build_prm
    orm = build_orm(args.orm_model, args) if args.orm_model else None
    prm = None
    if args.prm_model:
        prm = build_prm(args.prm_model) or RewardModelPRM.from_pretrained(args.prm_model, args)
    return Scorer(orm, prm, (args.orm_model, args.prm_model))


class SwiftSample:

    def __init__(self, args: Union[None, SampleArguments, Sequence[str]] = None):
        self.args = to_args(SampleArguments, args, 'swift sample')
        self.stats = dict(rows=0, skipped=0, samples=0, kept=0, filtered=0)

    def rows(self) -> List[dict]:
        """The rows of --data_range (all of --dataset by default) with their ids; torchrun ranks split these."""
        from swift.sampling import row_id, shard_rows
        args = self.args  # split_dataset_ratio is 0 here (validate refuses anything else): every row is sampled
        train, _ = load_datasets(args, list(args.dataset) + list(args.val_dataset))
        rows = [dict(r) for r in train]
        rows = [{**r, 'id': row_id(r)} for r in shard_rows(rows, args.data_range)]
        if args.num_sampling_per_gpu_batches is not None:
            rows = rows[:args.num_sampling_per_gpu_batches * args.num_sampling_per_gpu_batch_size]
        return rows

    def run(self) -> Optional[Dict]:
        """Under torchrun each rank samples a contiguous block of the rows; rank 0 writes one file in row order
        (the same file as one process: every row has its own seed) and returns the summary, other ranks None."""
        from swift.distributed import RankShard
        shard = RankShard.from_env()
        if shard.world_size > 1 and self.args.device_map is None and shard.device():
            self.args.device_map = shard.device()  # one GPU per rank
        shard.init_process_group(self.args.ddp_backend)
        try:
            return self._run(shard)
        finally:
            shard.close()

    def _run(self, shard) -> Optional[Dict]:
        from swift.distributed import gather_in_order
        from swift.distributed import shard_rows as rank_block
        from swift.sampling import OutputFile, build_sampler, read_cache
        args, start = self.args, time.time()
        path = args.output_path(shard.broadcast(dt.datetime.now().strftime('%Y%m%d-%H%M%S')))
        out = OutputFile(path, args.override_exist_file, shard.rank, shard.world_size)
        shard.barrier()  # every rank has read the partial files before any rank appends to its own
        rows = self.rows()
        mine = rank_block(rows, shard.rank, shard.world_size)
        todo = [r for r in mine if r['id'] not in out.done]
        self.stats['rows'], self.stats['skipped'] = len(mine), len(mine) - len(todo)
        where = f' (shard {args.data_range[0]} of {args.data_range[1]})' if args.data_range else ''
        if shard.world_size > 1:
            where += f' on rank {shard.rank} of {shard.world_size}'
        print(f'[INFO] swift sample: {len(todo)} prompts{where} with {args.sampler_type}/{args.sampler_engine} '
              f'-> {path}', flush=True)
        scorer = build_scorer(args)
        cache = read_cache(args.cache_files) if args.cache_files else None
        engine = build_sampler_engine(args)
        sampler = build_sampler(engine, args, scorer) if engine is not None else None
        try:
            self._loop(todo, sampler, scorer, cache, out, show=shard.is_main)
        finally:
            out.close()
            if engine is not None:
                engine.close()
        per_rank = gather_in_order([self.stats], shard)  # also waits for every rank to finish its file
        if per_rank is None:
            return None
        s = {key: sum(stats[key] for stats in per_rank) for key in self.stats}
        written = out.finish([r['id'] for r in rows])
        seconds = time.time() - start
        print(f'[INFO] swift sample: {s["rows"]} rows in ({s["skipped"]} resumed), {s["samples"]} samples drawn, '
              f'{s["kept"]} kept, {s["filtered"]} prompts filtered, {written} rows -> {path} ({seconds:.1f} s)',
              flush=True)
        return {'output_file': path, 'num_rows': written, 'seconds': seconds, **s}

    def _loop(self, todo, sampler, scorer, cache, out, show: bool = True) -> None:
        from tqdm import tqdm
        size = self.args.num_sampling_per_gpu_batch_size
        with tqdm(total=len(todo), desc='sample', disable=not show) as bar:
            for i in range(0, len(todo), size):
                batch = todo[i:i + size]
                if cache is not None:
                    candidates = [[(t, None) for t in cache.get(r['id'], [])] for r in batch]
                else:
                    candidates = sampler.sample(batch)
                for row, cands in zip(batch, candidates):
                    out.write(row['id'], self._rows_for(row, cands, scorer))
                bar.update(len(batch))

    def _rows_for(self, row: dict, candidates, scorer) -> List[dict]:
        from swift.sampling import output_row, select, split_prompt
        from swift.sampling.rows import columns_of
        prompt, columns = split_prompt(row)[0], columns_of(row)
        self.stats['samples'] += len(candidates)
        if not candidates:
            return []
        if not scorer.active:  # raw samples: the cache of a later `--sampler_engine no` run
            self.stats['kept'] += len(candidates)
            return [output_row(row, prompt, text, id=row['id']) for text, _ in candidates]
        scored = scorer.score(prompt, [t for t, _ in candidates], columns)
        choice = select(scored, self.args)
        if not choice['kept']:
            self.stats['filtered'] += 1
            return []
        worst = choice['worst'] if self.args.output_rejected else None
        result = []
        for best in choice['kept']:
            if worst is not None and (worst.text == best.text or worst.score == best.score):
                continue  # no preference between equal scores
            result.append(output_row(row, prompt, best.text, id=row['id'], score=best.score, orm_score=best.orm,
                                     prm_score=best.prm, rejected_response=worst and worst.text,
                                     rejected_score=worst and worst.score))
        self.stats['kept'] += len(result)
        return result


def sample_main(args: Union[None, SampleArguments, Sequence[str]] = None):
    return SwiftSample(args).run()
