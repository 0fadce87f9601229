"""Encoding throughput and peak memory of `encode_dataset`, optionally side by side with another checkout.

usage:
  OMP_NUM_THREADS=1 python -m bench.encode --rows 20000 [--data synthetic|builtin] [--num_proc 1]
  OMP_NUM_THREADS=1 python -m bench.encode --rows 20000 --compare /tmp/oldswift --rounds 3   # old/new alternate
  OMP_NUM_THREADS=1 python -m bench.encode --rows 1000000 --num_proc 2 --input arrow          # peak RSS at scale

Rows: `synthetic` is bench/data.py's write_fast_jsonl (the rows `bench/train.py --encode_rows` encodes: 1-3 rounds
of English word salad, 20% of sentences runs of Chinese characters); `builtin` is swift/self-cognition (106
zh/en rows) repeated to --rows. Synthetic row counts above 100,000 repeat the first 100,000 (a multiple of it).
Template qwen2_5 with the tiny byte-level BPE tokenizer, max_length 512, delete.
Time and memory cover `encode_dataset` alone: the canonical rows are loaded before (`--input swift`:
`load_dataset`; `--input arrow`: a memory-mapped `datasets` json load, so 1M input rows do not sit in memory).
`load_peak_rss_mib` is the process's peak RSS (ru_maxrss) after loading, before encoding.
Peak RSS is sampled every 20 ms over this process and its workers, summed (an upper bound: pages a forked
worker shares with its parent count twice), and so is private memory (RSS minus file-backed shared pages, so
the memory-mapped input and output Arrow files, which the kernel can drop, are not counted).
The script imports only `swift`'s public API and bench/data.py, so `--compare` runs it against another checkout
by putting that checkout first on PYTHONPATH.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.join(tempfile.gettempdir(), 'swift-bench-encode')
_UNIQUE_ROWS = 100_000


def _rows_file(data: str, rows: int) -> str:
    from bench.data import write_fast_jsonl
    path = os.path.join(ROOT, f'{data}-{rows}.jsonl')
    if os.path.exists(path):
        return path
    if data == 'synthetic' and rows > _UNIQUE_ROWS:  # writing 1M distinct rows takes long: repeat 100k
        base = _rows_file(data, _UNIQUE_ROWS)
        with open(path + '.tmp', 'wb') as f:
            for _ in range(rows // _UNIQUE_ROWS):
                with open(base, 'rb') as src:
                    shutil.copyfileobj(src, f)
        return os.replace(path + '.tmp', path) or path
    if data == 'synthetic':
        return write_fast_jsonl(path + '.tmp', rows) and os.replace(path + '.tmp', path) or path
    from swift.dataset import load_dataset
    train, _ = load_dataset(['swift/self-cognition'], model_name=['小黄', 'Xiao Huang'],
                            model_author=['魔搭', 'ModelScope'])
    base = [json.dumps({'messages': r['messages']}, ensure_ascii=False) for r in train]
    with open(path + '.tmp', 'w', encoding='utf-8') as f:
        f.writelines(base[i % len(base)] + '\n' for i in range(rows))
    os.replace(path + '.tmp', path)
    return path


class PeakRss:
    """Peak of the summed RSS of this process and its children, sampled in a thread."""

    def __init__(self):
        import psutil
        self.proc, self.peak, self.peak_private, self._stop = psutil.Process(), 0, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        return sum(m.rss for m in self._infos())

    def private(self) -> int:
        """Resident memory not backed by files (RSS minus shared pages: memory-mapped Arrow is not counted)."""
        return sum(m.rss - m.shared for m in self._infos())

    def _infos(self):
        infos = [self.proc.memory_info()]
        for child in self.proc.children(recursive=True):
            try:
                infos.append(child.memory_info())
            except Exception:  # a worker that just exited
                pass
        return infos

    def _run(self):
        last = time.monotonic()
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.rss())
            self.peak_private = max(self.peak_private, self.private())
            if time.monotonic() - last > 30:  # long runs: progress on stderr
                last = time.monotonic()
                print(f'peak RSS so far {self.peak >> 20} MiB (private {self.peak_private >> 20}), '
                      f'shards on disk {_shard_bytes() >> 20} MiB', file=sys.stderr, flush=True)

    def __enter__(self):
        self.peak, self.peak_private = self.rss(), self.private()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _shard_bytes() -> int:
    top, total = tempfile.gettempdir(), 0
    for name in os.listdir(top):
        if name.startswith(f'swift-encoded-{os.getpid()}-'):
            for folder, _, files in os.walk(os.path.join(top, name)):
                total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total


def measure(ns) -> dict:
    from swift.dataset import encode_dataset, load_dataset
    from swift.model.tiny import load_tiny_tokenizer
    from swift.template import get_template
    path = _rows_file(ns.data, ns.rows)
    if ns.input == 'arrow':
        import datasets
        train = datasets.load_dataset('json', data_files=path, split='train', cache_dir=os.path.join(ROOT, 'hf'))
    else:
        train, _ = load_dataset([path])
    template = get_template('qwen2_5', load_tiny_tokenizer(), max_length=512)
    load_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # loading's peak (Linux: KiB)
    monitor = PeakRss()
    before, before_private = monitor.rss(), monitor.private()
    with monitor:
        start = time.perf_counter()
        encoded, stats = encode_dataset(train, template, num_proc=ns.num_proc)
        seconds = time.perf_counter() - start
    tokens = sum(stats.lengths)
    mib = 1 << 20
    return {'checkout': os.path.dirname(os.path.dirname(sys.modules['swift'].__file__)), 'data': ns.data,
            'rows': ns.rows, 'kept': len(encoded), 'num_proc': ns.num_proc, 'omp': os.environ.get('OMP_NUM_THREADS'),
            'seconds': round(seconds, 2), 'rows_per_s': round(ns.rows / seconds, 1),
            'tokens_per_s': round(tokens / seconds), 'load_peak_rss_mib': round(load_peak / mib),
            'rss_before_mib': round(before / mib),
            'peak_rss_mib': round(monitor.peak / mib), 'private_before_mib': round(before_private / mib),
            'peak_private_mib': round(monitor.peak_private / mib), 'load_avg': round(os.getloadavg()[0], 1)}


def _run_side(checkout: str, argv) -> dict:
    env = {**os.environ, 'PYTHONPATH': checkout}
    out = subprocess.run([sys.executable, os.path.abspath(__file__), *argv], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def compare(ns, argv) -> None:
    """Rounds alternating the other checkout and this one; the speed-up is the median of per-round ratios."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ratios = []
    for _ in range(ns.rounds):
        old = _run_side(ns.compare, argv)
        print(json.dumps(old), flush=True)
        new = _run_side(here, argv)
        print(json.dumps(new), flush=True)
        ratios.append(new['rows_per_s'] / old['rows_per_s'])
    print(json.dumps({'speedup_per_round': [round(r, 2) for r in ratios],
                      'median_speedup': round(statistics.median(ratios), 2)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rows', type=int, default=20000)
    parser.add_argument('--data', choices=['synthetic', 'builtin'], default='synthetic')
    parser.add_argument('--input', choices=['swift', 'arrow'], default='swift')
    parser.add_argument('--num_proc', type=int, default=1)
    parser.add_argument('--compare', help='another checkout to alternate with (e.g. a git worktree of b559137)')
    parser.add_argument('--rounds', type=int, default=3)
    ns = parser.parse_args()
    os.makedirs(ROOT, exist_ok=True)
    if ns.compare:
        argv = [a for a in sys.argv[1:]]
        i = argv.index('--compare')
        del argv[i:i + 2]
        _rows_file(ns.data, ns.rows)  # written once, before the timed rounds
        compare(ns, argv)
    else:
        print(json.dumps(measure(ns)), flush=True)


if __name__ == '__main__':
    main()
