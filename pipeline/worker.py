"""What each worker process does: keep the patterns it is given, load the model at most once,
then read files."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import resource
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

from pipeline.dataset.review import excerpts
from pipeline.dataset.tables import convention_id
from pipeline.errors import NotAConvention, ReadError
from pipeline.extract.nlp import LazyModel
from pipeline.extract.record import extract_document
from pipeline.model import Options, Outcome
from pipeline.patterns import Patterns
from pipeline.read import read_file

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


class Worker:
    """What one process keeps for all its files: the options, the patterns and the spaCy model."""

    patterns: Patterns | None = None
    nlp = None
    options = Options()


def start_worker(options: Options, patterns: Patterns) -> None:
    Worker.options = options
    Worker.patterns = patterns
    Worker.nlp = LazyModel() if options.use_spacy else None


def start_pool_worker(options: Options, patterns: Patterns, parent: int) -> None:
    """A process of the pool: it dies with the run that started it, and its memory is capped."""
    die_with(parent)
    start_worker(options, patterns)
    cap_memory(options.limits.max_memory_mb)


def die_with(parent: int) -> None:
    """Asks the kernel for a SIGTERM when the parent dies (even by kill -9); on it, the worker
    ends its own children (Tesseract) and exits."""
    signal.signal(signal.SIGTERM, stop)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the request was made
        stop()


def stop(*_: object) -> None:
    for child in children(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)
    os._exit(1)


def children(pid: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                    fields = handle.read().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            if fields[1] == str(pid):
                found.append(int(entry.name))
    return found


def cap_memory(megabytes: float) -> None:
    """Bound the process's data (heap and anonymous mappings): an allocation past it fails with
    MemoryError, which fails the file, not the machine. Shared libraries are not counted."""
    if megabytes <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    wanted = int(megabytes * 2**20)
    resource.setrlimit(resource.RLIMIT_DATA, (wanted if hard < 0 else min(wanted, hard), hard))


@contextlib.contextmanager
def memory_capped(megabytes: float) -> Iterator[None]:
    """The cap for a run read in this very process, lifted when it is done."""
    before = resource.getrlimit(resource.RLIMIT_DATA)
    cap_memory(megabytes)
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, before)


def process(path: Path) -> Outcome:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return failed(path, "not_a_regular_file", "pas un fichier ordinaire : non lu")
        doc = read_file(path, Worker.options.limits)
        record = extract_document(doc, Worker.patterns, Worker.nlp)
    except ReadError as error:
        return failed(path, error.kind, error)
    except NotAConvention as error:
        return failed(path, "not_a_convention", error)
    except MemoryError:
        return failed(path, "memory_limit", over_memory(Worker.options.limits.max_memory_mb))
    except Exception as error:  # one bad file must never stop the batch
        log.exception("unexpected error on %s", path)
        return failed(path, "internal_error", f"{type(error).__name__}: {error}")
    record = {"id": convention_id(doc.text), **record}
    spans = [(e["start"], e["end"]) for e in record["evidence"].values()]
    context = excerpts(doc.text, spans, Worker.patterns["review"]["context_chars"])
    return Outcome(str(path), record=record, excerpts=context)


def over_memory(megabytes: float) -> str:
    return (
        f"la lecture demandait plus de mémoire que la limite de {megabytes:g} Mo par processus "
        "(--max-memory-mb)"
    )


def failed(path: Path, kind: str, error: object) -> Outcome:
    message = " ".join(str(error).split()) or kind
    return Outcome(str(path), error={"fichier": str(path), "type_erreur": kind, "message": message})
