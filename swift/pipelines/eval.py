"""`swift eval`: check benchmarks and files, start our engine behind our OpenAI server on a free 127.0.0.1 port
(or use --eval_url), run evalscope and our own-format sets against it, print and save the results."""
import datetime as dt
import os
import time
from typing import Dict, List, Sequence, Union

from swift.arguments.eval_args import EvalArguments
from swift.utils import ArgumentError, get_logger
from .base import to_args

logger = get_logger()


class SwiftEval:

    def __init__(self, args: Union[None, EvalArguments, Sequence[str]] = None):
        from swift import eval as ev
        self.args = to_args(EvalArguments, args, 'swift eval')
        self.files = [d for d in self.args.eval_dataset if ev.is_dataset_file(d)]
        self.benchmarks = [d for d in self.args.eval_dataset if d not in self.files]
        self._check()
        stamp = dt.datetime.now().strftime('%Y%m%d-%H%M%S')
        self.out_dir = os.path.abspath(os.path.join(self.args.eval_output_dir, stamp))

    def _check(self):
        """Everything that can fail without a model fails here."""
        from swift import eval as ev
        args = self.args
        if self.files:
            ev.resolve_metric(args.metric)
        if self.benchmarks:
            ev.check_backend(args.eval_backend)
            if args.eval_backend == 'Native':
                ev.check_benchmarks(self.benchmarks, args.eval_dataset_args or {}, args.use_hf)
        if args.eval_url:
            url, changed = ev.normalize_url(args.eval_url)
            if changed:
                logger.info(f'--eval_url {args.eval_url} -> base URL {url}')
            self.url = url
            self.remote_models = ev.list_models(url, args.api_key, '--eval_url')

    def run(self) -> Dict:
        start = time.time()
        args = self.args
        if args.eval_url:
            model = args.served_model_name or args.model or self.remote_models[0]
            if model not in self.remote_models:
                raise ArgumentError(f'--eval_url {self.url} does not serve {model!r}; it serves '
                                    f'{", ".join(self.remote_models)} (pick one with --model).')
            results = {model: self.evaluate(self.url, model, args.api_key, self.out_dir, args)}
        elif args.eval_checkpoints:
            results = {ckpt: self.evaluate_local(args.for_checkpoint(ckpt), os.path.join(
                self.out_dir, os.path.basename(ckpt.rstrip('/')))) for ckpt in args.eval_checkpoints}
        else:
            results = {args.served_model_name: self.evaluate_local(args, self.out_dir)}
        return self.finish(results, time.time() - start)

    def evaluate_local(self, args: EvalArguments, out_dir: str) -> List[dict]:
        from swift import eval as ev
        from .infer import build_engine
        engine = build_engine(args)
        try:
            with ev.LocalServer(engine, args) as url:
                return self.evaluate(url, _evaluated_name(args), args.api_key, out_dir, args)
        finally:
            engine.close()

    def evaluate(self, url: str, model: str, api_key, out_dir: str, args: EvalArguments) -> List[dict]:
        from swift import eval as ev
        rows = []
        if self.benchmarks:
            work_dir = os.path.join(out_dir, 'evalscope')
            runner = ev.run_native if args.eval_backend == 'Native' else \
                lambda *a, **kw: ev.run_backend(args.eval_backend, *a, **kw)
            rows += runner(self.benchmarks, url=url, model=model, api_key=api_key, work_dir=work_dir, args=args)
        for entry in self.files:
            rows += ev.run_custom(entry, url=url, api_key=api_key, model=model, out_dir=out_dir, args=args)
        return rows

    def finish(self, results: Dict[str, List[dict]], seconds: float) -> Dict:
        from swift import eval as ev
        labels = list(results)
        meta = {'eval_backend': self.args.eval_backend, 'eval_dataset': self.args.eval_dataset,
                'seconds': round(seconds, 2)}
        out = {'output_dir': self.out_dir, 'results': results}
        if len(labels) == 1:
            rows = results[labels[0]]
            print(ev.format_table(rows), flush=True)
            out['report'] = ev.write_report(os.path.join(self.out_dir, 'report.json'), rows,
                                            {**meta, 'model': labels[0]})
        else:
            table = ev.comparison(results)
            print(ev.format_comparison(table, labels), flush=True)
            out['report'] = ev.write_report(os.path.join(self.out_dir, 'report.json'), table,
                                            {**meta, 'checkpoints': labels})
            out['plot'] = ev.plot_comparison(os.path.join(self.out_dir, 'comparison.png'), table, labels)
            print(f'[INFO] plot: {out["plot"]}')
        samples = sum(max([r['n'] or 0 for r in rows if r['dataset'] == d] or [0])
                      for rows in results.values() for d in {r['dataset'] for r in rows})
        print(f'[INFO] swift eval: {len(labels)} model(s), {samples} samples evaluated, {seconds:.1f} s; '
              f'report: {out["report"]}', flush=True)
        return out


def _evaluated_name(args: EvalArguments) -> str:
    """The served name to evaluate: the base name applies the unnamed adapter; only named adapters need their
    own name (the first one)."""
    from swift.utils import parse_adapters
    adapters = {} if args.merge_lora else parse_adapters(args.adapters)
    if adapters and 'default' not in adapters:
        return next(iter(adapters))
    return args.served_model_name


def eval_main(args: Union[None, EvalArguments, Sequence[str]] = None):
    return SwiftEval(args).run()
