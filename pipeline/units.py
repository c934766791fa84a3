"""Work units, run in this process, on a pool of processes (--jobs) or on a Dask cluster
(--cluster): a file, or for a PDF with several scanned pages, its text layers, ranges of its
scanned pages and its record. Pages are scheduled across all workers whatever the file they
belong to, and each file's units are put back together, in order, into its one outcome."""

from __future__ import annotations

import logging
import math
import os
import queue
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.model import Options, Outcome
from pipeline.patterns import Patterns
from pipeline.read.files import shown

# A scanned PDF's pages go to units of at most this many pages.
MAX_PAGES_PER_UNIT = 4
CONNECT_SECONDS = 20
# Without a terminal, a progress line comes at least this often while pages are being read.
QUIET_SECONDS = 60


@dataclass(slots=True)
class Unit:
    name: str  # "begin", "read_pages" or "finish", functions of pipeline.worker
    path: Path  # the file it is part of
    args: tuple
    part: int = 0  # for a range of pages, its rank among its file's ranges
    alone: bool = False  # run with no other unit beside it, after a worker died


@dataclass(slots=True)
class Pages:
    """A scanned PDF being read: its Scan, and the text of each of its page ranges."""

    scan: object  # pipeline.worker.Scan
    ranges: list[list[int]]
    texts: dict[int, list] = field(default_factory=dict)
    error: Outcome | None = None


class WorkerLost(Exception):
    """The process running a unit died (memory exhausted, a library crashed, killed)."""


class ClusterUnavailable(Exception):
    """No Dask cluster to run on: the message says why, in one French line."""


def outcomes(
    files: list[Path], keys: dict[Path, str], options: Options, patterns: Patterns, cache: str | None
) -> Iterator[tuple[Path, Outcome]]:
    """Each file's outcome, as files are done."""
    if not files:
        return
    runner = make_runner(files, options, patterns, cache)
    try:
        yield from schedule(files, keys, runner, Progress(len(files), shown=not options.quiet))
    except BaseException:
        runner.close(abort=True)
        raise
    runner.close()


def make_runner(files: list[Path], options: Options, patterns: Patterns, cache: str | None) -> Runner:
    if options.cluster:
        return Cluster(options, cache)
    cores = os.cpu_count() or 1
    jobs = min(options.jobs or cores, len(files))
    if jobs <= 1:
        return Inline(options, patterns, cache)
    return Pool(jobs, options, patterns, cache)


def schedule(files: list[Path], keys: dict[Path, str], runner: Runner, progress: Progress) -> Iterator:
    """Keep the workers busy with units, the pages of files begun first, and yield each file's
    outcome when it is complete. A unit whose worker died is tried again, alone, and fails its
    file if its worker dies again."""
    done: queue.Queue = queue.Queue()
    waiting = deque(files)
    ready: deque[Unit] = deque()
    suspects: deque[Unit] = deque()
    running: dict[object, Unit] = {}
    scans: dict[Path, Pages] = {}

    def submit(unit: Unit) -> None:
        future = runner.submit(unit.name, *unit.args)
        running[future] = unit
        future.add_done_callback(done.put)

    left = len(files)
    while left:
        if suspects or any(unit.alone for unit in running.values()):
            if suspects and not running:
                submit(suspects.popleft())
        else:
            while len(running) < runner.window and (ready or waiting):
                if ready:
                    submit(ready.popleft())
                else:
                    path = waiting.popleft()
                    submit(Unit("begin", path, (path, keys.get(path), runner.split)))
        future = done.get()
        unit = running.pop(future)
        try:
            value = runner.result(future)
        except WorkerLost:
            if not unit.alone:
                unit.alone = True
                suspects.append(unit)
                continue
            value = lost(unit.path)
        for outcome in settle(unit, value, scans, ready, progress, runner.pages_per_unit):
            left -= 1
            progress.file_done(outcome)
            yield unit.path, outcome
    progress.close()


def settle(unit: Unit, value: object, scans: dict, ready: deque, progress: Progress, size: Callable) -> list:
    """What a finished unit means: its file's outcome, or more units to run."""
    from pipeline.worker import Scan

    if unit.name == "read_pages":
        return pages_read(unit, value, scans, ready, progress)
    if unit.name == "begin" and isinstance(value, Scan):
        ranges = split(value.scanned, size(len(value.scanned)))
        scans[unit.path] = Pages(value, ranges)
        progress.pages_done(len(value.pages) - len(value.scanned))
        for number, indexes in enumerate(ranges):
            ready.append(Unit("read_pages", unit.path, (value.path, indexes, value.deadline), number))
        return []
    if unit.name == "begin" and value.record:
        progress.pages_done(len(value.record.get("pages") or [1]))
    return [value]


def pages_read(unit: Unit, value: object, scans: dict, ready: deque, progress: Progress) -> list:
    """A range of pages read: when it is the file's last, the unit that makes its record is
    next (or the file's error, when a range failed)."""
    pages = scans[unit.path]
    if isinstance(value, Outcome):
        pages.error = pages.error or value
        pages.texts[unit.part] = []
    else:
        pages.texts[unit.part] = value
        progress.pages_done(len(value))
    if len(pages.texts) < len(pages.ranges):
        return []
    del scans[unit.path]
    if pages.error:
        return [pages.error]
    texts = [text for number in range(len(pages.ranges)) for text in pages.texts[number]]
    ready.appendleft(Unit("finish", unit.path, (pages.scan, texts)))
    return []


def split(indexes: list[int], size: int) -> list[list[int]]:
    return [indexes[i : i + size] for i in range(0, len(indexes), size)]


def lost(path: Path) -> Outcome:
    message = (
        "le processus qui lisait ce fichier s'est arrêté net, deux fois "
        "(mémoire de la machine épuisée ou bibliothèque défaillante)"
    )
    return Outcome(
        shown(path), error={"fichier": shown(path), "type_erreur": "processus_perdu", "message": message}
    )


class Runner:
    window = 1  # units submitted at once
    split = False  # whether scanned PDFs are read in several units
    workers = 1

    def submit(self, name: str, *args: object):
        raise NotImplementedError

    def result(self, future) -> object:
        return future.result()

    def pages_per_unit(self, pages: int) -> int:
        """Enough units for every worker to get two, none over MAX_PAGES_PER_UNIT pages."""
        return max(1, min(MAX_PAGES_PER_UNIT, math.ceil(pages / (2 * self.workers))))

    def close(self, abort: bool = False) -> None:
        return None


class Inline(Runner):
    """Every unit at once, in this process (its memory capped meanwhile)."""

    def __init__(self, options: Options, patterns: Patterns, cache: str | None):
        from pipeline import worker

        self.units = worker.UNITS
        worker.start_worker(options, patterns, cache)
        self.capped = worker.memory_capped(options.limits.max_memory_mb)
        self.capped.__enter__()

    def submit(self, name: str, *args: object) -> Future:
        future: Future = Future()
        future.set_result(self.units[name](*args))
        return future

    def close(self, abort: bool = False) -> None:
        self.capped.__exit__(None, None, None)


class Pool(Runner):
    """A pool of forked processes, which share the patterns loaded here; made anew when one of
    its processes dies."""

    split = True

    def __init__(self, jobs: int, options: Options, patterns: Patterns, cache: str | None):
        from pipeline import worker

        self.units = worker.UNITS
        self.workers, self.window = jobs, 2 * jobs
        # The cores that processes do not use go to the pages of a unit.
        cores = os.cpu_count() or 1
        options = replace(options, limits=replace(options.limits, ocr_workers=max(1, cores // jobs)))
        self.initargs = (options, patterns, os.getpid(), cache)
        self.pool = self.start()

    def start(self) -> ProcessPoolExecutor:
        from pipeline.worker import start_pool_worker

        return ProcessPoolExecutor(self.workers, initializer=start_pool_worker, initargs=self.initargs)

    def submit(self, name: str, *args: object) -> Future:
        try:
            return self.pool.submit(self.units[name], *args)
        except BrokenProcessPool:
            self.restart()
            return self.pool.submit(self.units[name], *args)

    def result(self, future: Future) -> object:
        try:
            return future.result()
        except BrokenProcessPool:
            self.restart()
            raise WorkerLost() from None

    def restart(self) -> None:
        if not getattr(self.pool, "_broken", False):
            return
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self.start()

    def close(self, abort: bool = False) -> None:
        if not abort:
            self.pool.shutdown()
            return
        processes = list((self.pool._processes or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # a unit running for minutes is not waited for
            process.terminate()


class Cluster(Runner):
    """A Dask cluster: units go to its workers through its scheduler; Dask runs again on other
    workers the units of a worker that died."""

    split = True

    def __init__(self, options: Options, cache: str | None):
        try:
            from distributed import Client
        except ImportError:
            raise ClusterUnavailable(
                "--cluster demande Dask : lancer « .venv/bin/pip install -r requirements-cluster.txt »"
            ) from None
        # A worker's threads (or processes) run units side by side: each reads its pages in turn.
        self.options = replace(options, limits=replace(options.limits, ocr_workers=1))
        self.cache = cache
        try:
            self.client = Client(options.cluster, set_as_default=False, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as error:
            raise ClusterUnavailable(
                f"impossible de joindre le planificateur Dask « {options.cluster} » : {error}"
            ) from None
        quiet_dask()
        threads = sum(self.client.nthreads().values()) or 1
        self.workers = threads
        self.window = 4 * threads

    def submit(self, name: str, *args: object):
        from pipeline.worker import on_cluster

        key = f"{name}-{uuid.uuid4().hex}"
        return self.client.submit(on_cluster, self.options, self.cache, name, *args, key=key, pure=False)

    def result(self, future) -> object:
        from distributed import KilledWorker

        try:
            return future.result()
        except KilledWorker:
            raise WorkerLost() from None

    def close(self, abort: bool = False) -> None:
        self.client.close()


def quiet_dask() -> None:
    """Dask's own log lines ("Couldn't gather…") are English and say what the run reports in
    French (a unit run again, a file whose worker was lost): shown only with -v."""
    if not logging.getLogger("pipeline").isEnabledFor(logging.INFO):
        for name in ("distributed", "distributed.client", "distributed.worker", "distributed.core"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


class Progress:
    """Files and pages done, pages per second and the time left: a bar on a terminal,
    otherwise a line at every tenth of the files, and at least every QUIET_SECONDS while the
    pages of long files are being read."""

    def __init__(self, total: int, shown: bool = True):
        self.total = total
        self.files = self.pages = 0
        self.start = self.said = time.monotonic()
        self.bar = None
        self.shown = shown
        if shown and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=" fichiers", desc="extraction")

    def pages_done(self, count: int) -> None:
        self.pages += count
        if self.bar:
            self.bar.set_postfix_str(self.pace(), refresh=True)
        elif time.monotonic() - self.said >= QUIET_SECONDS:
            self.say()

    def file_done(self, outcome: Outcome) -> None:
        self.files += 1
        if self.bar:
            self.bar.set_postfix_str(self.pace(), refresh=False)
            self.bar.update()
            return
        step = max(1, self.total // 10)
        tenth = self.total >= 20 and (self.files % step == 0 or self.files == self.total)
        if tenth or time.monotonic() - self.said >= QUIET_SECONDS:
            self.say()

    def pace(self) -> str:
        elapsed = time.monotonic() - self.start
        return f"{self.pages} pages, {self.pages / elapsed if elapsed else 0.0:.1f} pages/s"

    def say(self) -> None:
        if not self.shown:
            return
        elapsed = time.monotonic() - self.start
        left = f", reste {duration(elapsed / self.files * (self.total - self.files))}" if self.files else ""
        line = f"extraction : {self.files}/{self.total} fichiers, {self.pace()}{left}"
        print(line, file=sys.stderr, flush=True)
        self.said = time.monotonic()

    def close(self) -> None:
        if self.bar:
            self.bar.close()


def duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {seconds:02d} s"
