"""The web-ui's process manager: every run is a `swift ...` subprocess in its own process group, its output in a
log file, its record in <root>/<run id>/run.json, so a reopened page (or a restarted web-ui) lists and
reattaches to it. Stop signals only the process group of a run this manager started."""
import dataclasses
import glob
import json
import os
import signal
import subprocess
import threading
import time
from typing import Dict, List, Optional, Sequence

from swift.utils import SwiftError, get_logger

logger = get_logger()
RUN_FILE = 'run.json'
LOG_FILE = 'output.log'
LOGGING_JSONL = 'logging.jsonl'


@dataclasses.dataclass
class Run:
    id: str
    command: str  # the `swift ...` line shown to the user
    argv: List[str]  # what was executed
    pid: int
    proc_start: Optional[str]  # /proc/<pid>/stat start time: tells our process from a reused pid
    started: float
    log_path: str
    output_dir: Optional[str] = None
    status: str = 'running'  # running | finished | failed | stopped | exited
    returncode: Optional[int] = None

    @property
    def finished(self) -> bool:
        return self.status != 'running'


def _proc_start(pid: int) -> Optional[str]:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class RunManager:

    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)
        self._procs: Dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    # ----- start / stop -----
    def start(self, name: str, command_line: str, argv: Sequence[str], output_dir: Optional[str] = None,
              env: Optional[Dict[str, str]] = None) -> Run:
        run_id = f'{time.strftime("%Y%m%d-%H%M%S")}-{name}'
        folder = os.path.join(self.root, run_id)
        os.makedirs(folder, exist_ok=False)
        log_path = os.path.join(folder, LOG_FILE)
        with open(log_path, 'w', encoding='utf-8') as log:
            log.write(f'$ {command_line}\n')
            log.flush()
            proc = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, env={**os.environ, 'PYTHONUNBUFFERED': '1', **(env or {})})
        run = Run(run_id, command_line, list(argv), proc.pid, _proc_start(proc.pid), time.time(), log_path,
                  output_dir and os.path.abspath(output_dir))
        with self._lock:
            self._procs[run_id] = proc
        self._save(run)
        threading.Thread(target=self._wait, args=(run, proc), daemon=True).start()
        logger.info(f'web-ui: started run {run_id} (pid {proc.pid}): {command_line}')
        return run

    def _wait(self, run: Run, proc: subprocess.Popen) -> None:
        code = proc.wait()
        current = self.get(run.id)
        if current.status == 'running':
            current.status = 'finished' if code == 0 else 'failed'
        current.returncode = code
        self._save(current)

    def stop(self, run_id: str, timeout: float = 15.) -> Run:
        """SIGTERM the run's process group (torchrun workers included), SIGKILL it after `timeout` s."""
        run = self.get(run_id)
        if not self._alive(run):
            return run
        run.status = 'stopped'
        self._save(run)
        pgid = run.pid  # start_new_session: the run leads its own group
        os.killpg(pgid, signal.SIGTERM)
        deadline = time.time() + timeout
        while time.time() < deadline and self._alive(run):
            time.sleep(0.2)
        if self._alive(run):
            os.killpg(pgid, signal.SIGKILL)
        proc = self._procs.get(run_id)
        if proc is not None:
            proc.wait(timeout=timeout)
        logger.info(f'web-ui: stopped run {run_id} (pid {run.pid}).')
        return self.get(run_id)

    def stop_servers(self) -> None:
        """Stop the `swift deploy` runs this manager started (the infer tab's chat servers)."""
        for run_id in list(self._procs):
            if run_id.endswith('-deploy'):
                self.stop(run_id)

    def _alive(self, run: Run) -> bool:
        proc = self._procs.get(run.id)
        if proc is not None:
            return proc.poll() is None
        # A run started by an earlier web-ui process: alive if its pid still is the process we started.
        return run.proc_start is not None and _proc_start(run.pid) == run.proc_start

    # ----- records -----
    def _save(self, run: Run) -> None:
        path = os.path.join(self.root, run.id, RUN_FILE)
        with self._lock:
            with open(path + '.tmp', 'w', encoding='utf-8') as f:
                json.dump(dataclasses.asdict(run), f, ensure_ascii=False, indent=2)
            os.replace(path + '.tmp', path)

    def get(self, run_id: str) -> Run:
        path = os.path.join(self.root, run_id, RUN_FILE)
        if not os.path.isfile(path):
            raise SwiftError(f'no run {run_id!r} under {self.root}.')
        with open(path, encoding='utf-8') as f:
            run = Run(**json.load(f))
        if run.status == 'running' and run.id not in self._procs and not self._alive(run):
            run.status = 'exited'  # ended while no web-ui was watching: the exit code is lost
            self._save(run)
        return run

    def list(self) -> List[Run]:
        ids = sorted((os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(self.root, '*', RUN_FILE))),
                     reverse=True)
        return [self.get(i) for i in ids]

    # ----- what a run wrote -----
    @staticmethod
    def read_log(run: Run, max_chars: int = 20000) -> str:
        try:
            with open(run.log_path, 'rb') as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - max_chars))
                return f.read().decode('utf-8', errors='replace')
        except OSError:
            return ''

    @staticmethod
    def train_dir(run: Run) -> Optional[str]:
        """The run's training folder: output_dir itself, or the newest output_dir/v<N>-* made after the start."""
        if not run.output_dir:
            return None
        if os.path.isfile(os.path.join(run.output_dir, 'args.json')):
            return run.output_dir
        dirs = [d for d in glob.glob(os.path.join(run.output_dir, 'v*-*'))
                if os.path.isdir(d) and os.path.getmtime(d) >= run.started - 1]
        return max(dirs, key=os.path.getmtime) if dirs else None

    @classmethod
    def log_rows(cls, run: Run) -> List[dict]:
        folder = cls.train_dir(run)
        path = folder and os.path.join(folder, LOGGING_JSONL)
        if not path or not os.path.isfile(path):
            return []
        rows = []
        with open(path, encoding='utf-8') as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # the trainer is writing this line right now
        return rows

    @classmethod
    def checkpoints(cls, run: Run) -> List[str]:
        folder = cls.train_dir(run)
        if not folder:
            return []
        found = glob.glob(os.path.join(folder, 'checkpoint-*'))
        return sorted(found, key=lambda p: int(p.rsplit('-', 1)[1]) if p.rsplit('-', 1)[1].isdigit() else -1)
