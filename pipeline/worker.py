"""What each worker process does: keep the patterns it is given, load the model at most once,
then run work units: a file read whole, or a scanned PDF read in parts (its text layers, ranges
of its scanned pages by OCR, then the record from all its pages)."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import resource
import signal
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.cache import Folder, Remote, entry, store
from pipeline.dataset.review import excerpts
from pipeline.dataset.tables import convention_id
from pipeline.errors import NotAConvention, ReadError
from pipeline.extract.acts import extract_acts
from pipeline.extract.nlp import LazyModel
from pipeline.model import CONTROL, Document, Options, Outcome, as_dict
from pipeline.patterns import Patterns
from pipeline.read import read_file
from pipeline.read.crops import page_crops
from pipeline.read.files import (
    PDF_SUFFIXES,
    PageText,
    assemble,
    checked_size,
    ocr_pdf_pages,
    pdf_text_layers,
    scanned_pages,
    shown,
)

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
# What a PDF library raises on a damaged file, past the checks made when it is opened.
PDF_LIBRARIES = ("pypdfium2",)


class Worker:
    """What one process keeps for all its units: the options, the patterns, the spaCy model
    and where outcomes are cached."""

    patterns: Patterns | None = None
    nlp = None
    options = Options()
    cache: Folder | Remote | None = None
    cache_location: str | None = None


def start_worker(options: Options, patterns: Patterns, cache_location: str | None = None) -> None:
    Worker.options = options
    Worker.patterns = patterns
    Worker.nlp = LazyModel() if options.use_spacy else None
    Worker.cache_location = cache_location
    Worker.cache = store(cache_location) if cache_location else None


def start_pool_worker(options: Options, patterns: Patterns, parent: int, cache_location: str | None) -> None:
    """A process of the pool: it dies with the run that started it, and its memory is capped."""
    die_with(parent)
    start_worker(options, patterns, cache_location)
    cap_memory(options.limits.max_memory_mb)


def die_with(parent: int) -> None:
    """Asks the kernel for a SIGTERM when the parent dies (even by kill -9); on it, the worker
    ends its own children (Tesseract) and exits. Ctrl-C is the parent's to handle: it ends
    its workers itself, without a traceback from each."""
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
    for entry_ in os.scandir("/proc"):
        if entry_.name.isdigit():
            try:
                with open(f"/proc/{entry_.name}/stat", encoding="ascii", errors="replace") as handle:
                    fields = handle.read().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            if fields[1] == str(pid):
                found.append(int(entry_.name))
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


@dataclass(slots=True)
class Scan:
    """A PDF whose text layers are read and whose scanned pages are left to OCR units."""

    path: str
    key: str | None  # content key, to cache the outcome under
    pages: list[PageText]  # in order; a scanned page's text comes from its unit
    scanned: list[int]  # indexes of the pages to OCR
    deadline: float  # time.time() past which pages are left unread (--max-seconds)


def process(path: Path) -> Outcome:
    """A file read whole, in this process."""
    return guarded(path, lambda: recorded(path, read_file(path, Worker.options.limits)))


def begin(path: Path, key: str | None = None, split: bool = False) -> Outcome | Scan:
    """A file's first unit: its outcome, read whole; or, when `split` and the file is a PDF
    with several scanned pages, a Scan whose pages other units OCR."""
    path = Path(path)
    if not (split and path.suffix.lower() in PDF_SUFFIXES):
        return kept(key, process(path))
    scan = guarded(path, lambda: scan_of(path, key))
    if not isinstance(scan, Scan):
        return kept(key, scan)
    return scan if len(scan.scanned) > 1 else finish(scan)


def scan_of(path: Path, key: str | None) -> Scan:
    limits = Worker.options.limits
    checked_size(path, limits)
    deadline = time.time() + limits.max_seconds
    pages = pdf_text_layers(path, limits)
    return Scan(str(path), key, pages, scanned_pages(pages), deadline)


def read_pages(path: str, indexes: list[int], deadline: float) -> list[PageText] | Outcome:
    """A unit of OCR: the given pages of a scanned PDF, in order."""
    left = time.monotonic() + deadline - time.time()
    return guarded(Path(path), lambda: ocr_pdf_pages(Path(path), indexes, Worker.options.limits, left))


def finish(scan: Scan, read: list[PageText] | None = None) -> Outcome:
    """The last unit of a scanned PDF: its record from all its pages, `read` being the text of
    its scanned pages in order (None: OCR them here)."""
    path = Path(scan.path)

    def record() -> Outcome:
        pages = list(scan.pages)
        if read is None and scan.scanned:
            left = time.monotonic() + scan.deadline - time.time()
            texts = ocr_pdf_pages(path, scan.scanned, Worker.options.limits, left)
        else:
            texts = read or []
        for index, text in zip(scan.scanned, texts, strict=True):
            pages[index] = text
        return recorded(path, assemble(shown(path.name), pages))

    return kept(scan.key, guarded(path, record))


def regular(path: Path) -> None:
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise NotARegularFile("pas un fichier ordinaire : non lu")


class NotARegularFile(ReadError):
    kind = "pas_un_fichier_ordinaire"


def recorded(path: Path, doc: Document) -> Outcome:
    """The records of the file's conventions (one per act that is one), with what review.html
    shows of each."""
    acts = extract_acts(doc, Worker.patterns, Worker.nlp)
    if not acts.records:
        raise NotAConvention(none_found(acts.others))
    readings = []
    for record in acts.records:
        act_text = doc.text[record["caractere_debut"] : record["caractere_fin"]]
        record = {"id": convention_id(act_text), **record}
        spans = [(e["start"], e["end"]) for e in record["evidence"].values()]
        context = excerpts(doc.text, spans, Worker.patterns["review"]["context_chars"])
        readings.append({"record": record, "excerpts": context, "crops": page_crops(doc, record["evidence"])})
    return Outcome(shown(path), **readings[0], more=readings[1:], other_acts=len(acts.others))


def none_found(reasons: list[str]) -> str:
    kinds = list(dict.fromkeys(reasons))
    listed = " ; ".join(kinds[:5]) + (" ; …" if len(kinds) > 5 else "")
    return f"aucune convention de délégation de gestion parmi les {len(reasons)} actes du fichier : {listed}"


def guarded(path: Path, work: Callable[[], object]) -> object:
    """What `work` returns, or the file's error line: one bad file never stops the batch."""
    try:
        regular(path)
        return work()
    except ReadError as error:
        return failed(path, error.kind, error)
    except NotAConvention as error:
        return failed(path, "pas_une_convention", error)
    except MemoryError:
        return failed(path, "memoire_depassee", over_memory(Worker.options.limits.max_memory_mb))
    except Exception as error:
        if path.suffix.lower() in PDF_SUFFIXES and type(error).__module__.startswith(PDF_LIBRARIES):
            from pipeline.read.pdf import broken

            return failed(path, "pdf_endommage", broken(error))
        log.exception("erreur inattendue sur %s", path)
        return failed(path, "erreur_interne", f"erreur inattendue ({type(error).__name__}) : {error}")


def kept(key: str | None, outcome: Outcome) -> Outcome:
    """The outcome, cached under its key (an internal error is worth another try next run)."""
    if key and Worker.cache and not (outcome.error and outcome.error["type_erreur"] == "erreur_interne"):
        data = json.dumps(as_dict(outcome), ensure_ascii=False).encode("utf-8")
        Worker.cache.write(entry(key), data)
    return outcome


def over_memory(megabytes: float) -> str:
    return (
        f"la lecture demandait plus de mémoire que la limite de {megabytes:g} Mo par processus "
        "(--max-memory-mb)"
    )


def failed(path: Path, kind: str, error: object) -> Outcome:
    message = " ".join(CONTROL.sub(" ", str(error)).split()) or kind
    return Outcome(shown(path), error={"fichier": shown(path), "type_erreur": kind, "message": message})


UNITS = {"begin": begin, "read_pages": read_pages, "finish": finish}


def on_cluster(options: Options, cache_location: str | None, unit: str, *args: object) -> object:
    """A unit on a Dask worker, whose state is set up by the first unit it runs."""
    if Worker.patterns is None or (Worker.options, Worker.cache_location) != (options, cache_location):
        from pipeline.patterns import load_patterns

        start_worker(options, load_patterns(), cache_location)
    return UNITS[unit](*args)
