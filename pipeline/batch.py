"""Run the pipeline over many files: one record or one error line per file, never a crash."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.cache import Cache
from pipeline.dataset.corrections import (
    correct,
    drop_answered,
    find_corrections,
    read_corrections,
    routed,
    unclaimed,
)
from pipeline.dataset.links import LinkKeys
from pipeline.dataset.package import validate_package, write_package
from pipeline.dataset.review import fields_of, write_review
from pipeline.dataset.sources import add_sources, read_sources
from pipeline.dataset.tables import record_source, tables
from pipeline.dataset.write import Spool, write_atomic, write_dataset
from pipeline.extract.checks import apply_checks
from pipeline.model import Options, Outcome, add_warning, as_dict, warning
from pipeline.outdir import OutputFolder, reason
from pipeline.patterns import Patterns, load_patterns
from pipeline.read import SUFFIXES
from pipeline.read.files import shown

# The longest path the system opens, in bytes: a file past it is reported, not silently left.
PATH_MAX = os.pathconf("/", "PC_PATH_MAX")

# The package check and the workbook run beside the review in at most this many processes.
SIDE_PROCESSES = 2


@dataclass(slots=True)
class Summary:
    records: Sequence[dict] = field(default_factory=list)  # after a run, read from conventions.json
    errors: list[dict] = field(default_factory=list)
    excerpts: dict[str, list] = field(default_factory=dict)  # by record id
    crops: dict[str, dict] = field(default_factory=dict)  # by record id, then evidence key
    notices: list[str] = field(default_factory=list)  # corrections that could not be applied
    corrections: list = field(default_factory=list)  # the rows read, for review.html to export again
    kept: bool = False  # no convention read: the dataset already in the output folder was kept
    paths: dict[str, str] = field(default_factory=dict)  # by record id, the file as it was given
    spool: Spool | None = None  # while a run writes: its records, with their excerpts and crops

    def entries(self) -> Collection[dict]:
        """Each record with the text around its evidence and its crops, in order."""
        if self.spool is not None:
            return self.spool
        return [
            {"record": r, "excerpts": self.excerpts.get(r["id"], []), "crops": self.crops.get(r["id"], {})}
            for r in self.records
        ]

    other_acts: int = 0  # acts of files holding conventions that are none themselves
    duplicates: list[dict] = field(
        default_factory=list
    )  # readings of a convention kept once, for doublons.csv

    @property
    def line(self) -> str:
        kinds: dict[str, int] = {}
        for error in self.errors:
            kinds[error["type_erreur"]] = kinds.get(error["type_erreur"], 0) + 1
        detail = ", ".join(f"{kind} : {count}" for kind, count in sorted(kinds.items()))
        extracted = counted(len(self.records), "convention extraite", "conventions extraites")
        missed = counted(len(self.errors), "fichier non extrait", "fichiers non extraits")
        others = f", {counted(self.other_acts, 'autre acte', 'autres actes')}" if self.other_acts else ""
        return f"{extracted}{others}, {missed}" + (f" ({detail})" if detail else "")


class Written(Sequence):
    """The records of a finished run, read from its conventions.json only when asked for."""

    def __init__(self, path: Path, count: int | None = None):
        self.path, self.count, self.loaded = path, count, None

    def records(self) -> list[dict]:
        if self.loaded is None:
            self.loaded = json.loads(self.path.read_text(encoding="utf-8")) if self.path.is_file() else []
        return self.loaded

    def __len__(self) -> int:
        return len(self.records()) if self.count is None else self.count

    def __getitem__(self, index):
        return self.records()[index]

    def __iter__(self) -> Iterator[dict]:
        """One record at a time, from the file's lines (one record each)."""
        if self.loaded is not None or not self.path.is_file():
            yield from self.records()
            return
        with open(self.path, encoding="utf-8") as lines:
            for line in lines:
                if line.startswith("{"):
                    yield json.loads(line.rstrip().removesuffix(","))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)


class Reviewed:
    """Each record with its fields (review.fields_of), worked out as they are gone through, as
    many times as asked: what review.html and the workbook show, never all in memory here.
    `full` adds the text around the evidence and the crops."""

    def __init__(self, entries: Collection[dict], settings: dict, full: bool = False):
        self.entries, self.settings, self.full = entries, settings, full

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[tuple]:
        for entry in self.entries:
            record = entry["record"]
            fields = fields_of(record, self.settings)
            yield (record, fields, entry["excerpts"], entry["crops"]) if self.full else (record, fields)


def counted(count: int, one: str, many: str) -> str:
    """ "0 fichier non extrait", "1 convention extraite", "2 conventions extraites": French
    takes the singular below two."""
    return f"{count} {one if count < 2 else many}"


def collect(paths: list[Path]) -> tuple[list[Path], list[dict]]:
    """The readable files under the given paths, at any depth (symbolic links followed), in a
    stable order; and an error line for each one that cannot be read as a file: a link that
    loops or leads nowhere, a path too long for the system, a named pipe, a socket or a device
    with a readable suffix."""
    files: list[Path] = []
    skipped: list[dict] = []
    for path in paths:
        if path.is_dir():
            walk(path, files, skipped)
        else:
            take(path, files, skipped)
    return sorted(files), skipped


def walk(top: Path, files: list[Path], skipped: list[dict]) -> None:
    """The files under `top`, folder after folder from a stack rather than by recursion: a
    tree thousands of folders deep is read like any other."""
    status = top.stat()
    seen = {(status.st_dev, status.st_ino)}
    stack = [(top, frozenset(seen))]  # each folder to read, with the folders that lead to it
    while stack:
        folder, ancestors = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            skipped.append(not_read(folder, "illisible", f"dossier illisible : {reason(error)}"))
            continue
        inner = []
        for entry in entries:
            path = Path(entry.path)
            try:
                status = path.stat()
            except OSError as error:
                if error.errno == errno.ENAMETOOLONG:
                    skipped.append(too_long(path, entry.is_dir(follow_symlinks=False)))
                elif entry.is_symlink() and path.suffix.lower() in SUFFIXES | {""}:
                    skipped.append(bad_link(path, error))
                continue
            if stat.S_ISDIR(status.st_mode):
                folder_id = (status.st_dev, status.st_ino)
                if folder_id in ancestors:
                    target = os.path.realpath(path)
                    message = (
                        f"lien symbolique en boucle : il ramène au dossier « {shown(target)} », déjà parcouru"
                    )
                    skipped.append(not_read(path, "lien_en_boucle", message))
                elif folder_id not in seen:  # a second link to a folder: its files are read once
                    seen.add(folder_id)
                    inner.append((path, ancestors | {folder_id}))
            elif path.suffix.lower() in SUFFIXES:
                take(path, files, skipped, status)
        stack += reversed(inner)


def too_long(path: Path, folder: bool) -> dict:
    size = len(os.fsencode(path))
    what = "dossier non parcouru" if folder else "fichier non lu"
    message = f"chemin de {size} octets, plus long que ce que le système accepte ({PATH_MAX}) : {what}"
    return not_read(path, "chemin_trop_long", message)


def take(path: Path, files: list[Path], skipped: list[dict], status: os.stat_result | None = None) -> None:
    try:
        status = status or path.stat()
    except OSError as error:
        skipped.append(bad_link(path, error))
        return
    if stat.S_ISREG(status.st_mode):
        files.append(path)
    else:
        skipped.append(special_file(path, status.st_mode))


def bad_link(path: Path, error: OSError) -> dict:
    if error.errno == errno.ELOOP:
        return not_read(path, "lien_en_boucle", "lien symbolique en boucle : il ne mène à aucun fichier")
    target = os.readlink(path) if path.is_symlink() else path
    return not_read(path, "lien_casse", f"lien symbolique cassé : « {shown(target)} » n'existe pas")


SPECIAL = {
    stat.S_IFIFO: "un tube nommé (FIFO)",
    stat.S_IFSOCK: "une socket",
    stat.S_IFCHR: "un périphérique",
    stat.S_IFBLK: "un périphérique",
}


def special_file(path: Path, mode: int) -> dict:
    kind = SPECIAL.get(stat.S_IFMT(mode), "un fichier spécial")
    return not_read(path, "pas_un_fichier_ordinaire", f"{kind}, pas un fichier ordinaire : non lu")


def not_read(path: Path, kind: str, message: str) -> dict:
    return {"fichier": shown(path), "type_erreur": kind, "message": message}


def source_names(paths: list[Path], files: list[Path]) -> dict[Path, str]:
    """Each file's fichier_source: its path from the folder that holds every input (the one
    folder given, or the folder of the files given), so that two files of one name in two
    subfolders keep two names."""
    homes = [os.path.abspath(path if path.is_dir() else path.parent) for path in paths]
    base = os.path.commonpath(homes) if homes else os.curdir
    return {path: shown(os.path.relpath(os.path.abspath(path), base)) for path in files}


def run(paths: list[Path], outdir: Path, options: Options = Options()) -> Summary:
    """Read every file under `paths` and write the dataset to `outdir`, in one step; a run that
    reads no convention leaves a dataset already there as it was (`Summary.kept`). Outcomes
    and records go through files as they come: memory does not grow with the number of files."""
    files, skipped = collect(paths)
    names = source_names(paths, files)
    correction_files = find_corrections(paths, options.corrections)
    corrections = [c for path in correction_files for c in read_corrections(path)]
    urls = read_sources(options.sources) if options.sources else {}
    inputs = [*correction_files, *([options.sources] if options.sources else [])]
    with OutputFolder(outdir) as output, Beside(options, len(files)) as beside:
        location = options.cache or outdir / ".cache"
        cache = Cache(location, settings(options)) if options.use_cache else None
        keys = content_keys(files, cache)
        run_key = whole_run_key(files, names, keys, inputs, cache) if not skipped else None
        if run_key and (last := cache.last_run(run_key, outdir)):
            records = Written(outdir / "conventions.json", last.get("records"))
            return Summary(records, last["errors"], notices=last["notices"], paths=last.get("paths", {}))
        beside.start()
        patterns = load_patterns()
        review = patterns["review"]
        read, records = Spool(*output.scratch()), Spool(*output.scratch())
        try:
            read_all(files, names, keys, cache, options, patterns, read)
            summary = summarise(read, records, corrections, list(names.values()), review, urls)
            read.remove()
            summary.errors = skipped + summary.errors
            if not len(records) and output.has_dataset():
                summary.kept, summary.spool = True, None
                return summary
            written = publishable(summary, output.building(), review, beside.executor())
        finally:
            read.remove()
            records.remove()
        output.commit(written)
    summary.records, summary.spool = Written(outdir / "conventions.json", len(records)), None
    if run_key:
        outputs = [outdir / path.name for path in written]
        report = {"errors": summary.errors, "notices": summary.notices, "records": len(records)}
        cache.remember_run(run_key, outputs, report | {"paths": summary.paths})
    return summary


def content_keys(files: list[Path], cache: Cache | None) -> dict[Path, str]:
    if cache is None:
        return {}
    keys = {path: cache.key(path) for path in files if path.exists()}
    cache.remember_keys(list(keys))
    return keys


def whole_run_key(
    files: list[Path],
    names: dict[Path, str],
    keys: dict[Path, str],
    correction_files: list[Path],
    cache: Cache | None,
) -> str | None:
    """The key of the whole run, when every file has one: its files, their names in the
    dataset and its corrections."""
    if cache is None or len(keys) != len(files):
        return None
    fixes = b"".join(path.read_bytes() for path in correction_files)
    return cache.run_key([(f"{shown(path)}\0{names[path]}", key) for path, key in keys.items()], fixes)


def read_all(
    files: list[Path],
    names: dict[Path, str],
    keys: dict[Path, str],
    cache: Cache | None,
    options: Options,
    patterns: Patterns,
    into: Spool,
) -> None:
    """Each file's outcome, into the spool under the file's rank: from the cache when its
    content was read before, else read now (and cached by the worker that read it)."""
    rank = {path: number for number, path in enumerate(files)}
    done = set()
    for path, key in keys.items():
        hit = cache.get(key)
        if hit:
            into.add(as_dict(renamed(Outcome(**hit), path, names[path])), rank[path])
            done.add(path)
    todo = [path for path in files if path not in done]
    # The extraction code loads only when a file needs reading: a cached re-run starts faster.
    from pipeline.units import outcomes

    for path, outcome in outcomes(todo, keys, options, patterns, cache.location if cache else None):
        into.add(as_dict(renamed(outcome, path, names[path])), rank[path])


def settings(options: Options) -> str:
    return f"{options.use_spacy}|{options.limits}"


def renamed(outcome: Outcome, path: Path, name: str) -> Outcome:
    """An outcome, told about the file it comes from and the name it has in the dataset."""
    for record, _, _ in outcome.readings():
        record["fichier_source"] = name
    if outcome.error:
        outcome.error["fichier"] = shown(path)
    outcome.path = shown(path)
    return outcome


def summarise(
    outcomes: Collection[dict], into: Spool, corrections: list, sources: list[str], review: dict, urls: dict
) -> Summary:
    """The records of the outcomes, in order, into the spool: a convention read twice kept once
    (its other readings for doublons.csv, a file that is a copy of another as an error line), an
    avenant tied to the convention it modifies, each record corrected and checked. The error
    lines and the corrections not applied."""
    summary = Summary(spool=into, corrections=corrections)
    links = LinkKeys()
    for outcome in outcomes:
        if not outcome["error"]:
            links.add(outcome["path"], [reading["record"] for reading in readings(outcome)])
    summary.duplicates, copies = links.settle()
    routes, problems = routed(corrections, sources)
    for outcome in outcomes:
        if outcome["error"]:
            summary.errors.append(outcome["error"])
            continue
        summary.other_acts += outcome["other_acts"]
        if outcome["path"] in copies:
            summary.errors.append(copies[outcome["path"]])
        for reading in readings(outcome):
            record = reading["record"]
            if not links.kept(record):
                continue
            links.tie(record)
            summary.paths[record["id"]] = outcome["path"]
            problems += correct(record, routes.pop(record_source(record), []))
            add_sources([record], urls)
            apply_checks(record, review)
            drop_answered(record, review)
            into.add(
                {"record": record, "excerpts": reading["excerpts"] or [], "crops": reading["crops"] or {}}
            )
    summary.notices = [text for _, text in sorted(problems + unclaimed(routes))]
    return summary


def readings(outcome: dict) -> list[dict]:
    """Each convention of a file's outcome: its record, excerpts and crops."""
    first = [{"record": outcome["record"], "excerpts": outcome["excerpts"], "crops": outcome["crops"]}]
    return (first if outcome["record"] else []) + (outcome["more"] or [])


def publishable(summary: Summary, outdir: Path, review: dict, side: Executor | None = None) -> list[Path]:
    """Write the dataset and its package, check them with frictionless (what the check finds
    becomes warnings on the records concerned), then what the officer reviews; the check and
    the workbook go to `side` (else are done here) meanwhile. Records are gone through one at a
    time. Returns the files written."""
    entries, errors = summary.entries(), summary.errors
    warned_entries = None

    def review_files(entries: Collection[dict]) -> list[Path]:
        stamp = run_stamp(outdir, summary.corrections)
        extras = (summary.corrections, summary.notices, stamp)
        return write_review(Reviewed(entries, review, full=True), review, outdir, *extras)

    side = side or Inline()
    try:
        book = side.submit(workbook_bytes, Reviewed(entries, review), review)
        records = (entry["record"] for entry in entries)
        outputs = write_dataset(records, errors, outdir, summary.duplicates)
        outputs += write_package(outdir, [entry["record"]["fichier_source"] for entry in entries])
        checked = side.submit(validate_package, outdir / "datapackage.json")
        outputs += review_files(entries)
        problems, content = checked.result(), book.result()
        if problems:
            warned_entries = validation_warnings(entries, problems, Spool(outdir))
            write_dataset((entry["record"] for entry in warned_entries), errors, outdir, summary.duplicates)
            review_files(warned_entries)
            content = workbook_bytes(Reviewed(warned_entries, review), review)
    finally:
        if warned_entries is not None:
            warned_entries.remove()
    outputs.append(outdir / "conventions.xlsx")
    write_atomic(outputs[-1], content)
    return outputs


def run_stamp(outdir: Path, corrections: list) -> str:
    """What tells this run's review page from another's: its records and its corrections."""
    with open(outdir / "conventions.json", "rb") as stream:
        digest = hashlib.file_digest(stream, "sha256")
    digest.update(json.dumps([[c.source, c.field, c.value] for c in corrections]).encode())
    return digest.hexdigest()[:16]


def reading_jobs(options: Options, files: int, cores: int) -> int:
    return 1 if options.cluster else min(options.jobs or cores, max(1, files))


def side_processes(options: Options, files: int, cores: int) -> int:
    """How many processes may check the package and build the workbook while the files are
    read: the cores the reading leaves free, none when every core reads files. A run of one
    job stays in one process (measured: a process beside it cost more than it saved)."""
    jobs = reading_jobs(options, files, cores)
    return 0 if jobs <= 1 else max(0, min(SIDE_PROCESSES, cores - jobs))


class Beside:
    """The processes that check the package and build the workbook beside the review. Started
    while the files are read only on the cores the reading leaves free (they load openpyxl
    meanwhile); otherwise once the reading is done, when its workers have left."""

    def __init__(self, options: Options, files: int):
        cores = os.cpu_count() or 1
        self.later = reading_jobs(options, files, cores) > 1 or bool(options.cluster)
        self.free = side_processes(options, files, cores)
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, kind, *exc) -> None:
        if not self.pool:
            return
        if kind is None:
            self.pool.shutdown(cancel_futures=True)
            return
        processes = list((self.pool._processes or {}).values())  # an interrupted run does not wait
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()

    def start(self) -> None:
        if self.free:
            self.pool = side_pool(self.free, early=True)
            self.pool.submit(int)  # its processes start now

    def executor(self) -> Executor:
        if self.pool is None and self.later:
            self.pool = side_pool(SIDE_PROCESSES, early=False)
        return self.pool or Inline()


def side_pool(processes: int, early: bool) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(processes, initializer=start_side, initargs=(os.getpid(), early))


def start_side(parent: int, early: bool) -> None:
    """A process beside the run: it dies with it; started early, it loads the workbook's library
    while the files are read (the check's loads only when its result is not cached already)."""
    from pipeline.worker import die_with

    die_with(parent)
    if early:
        import pipeline.dataset.workbook  # noqa: F401


def workbook_bytes(reviewed: list[tuple[dict, list]], review: dict) -> bytes:
    from pipeline.dataset.workbook import workbook_bytes as build  # openpyxl loads only where it is used

    return build(reviewed, review)


class Inline:
    """An executor that runs each task at once, in this process."""

    def __enter__(self) -> Inline:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def submit(self, task: Callable, *args: object) -> Future:
        future: Future = Future()
        try:
            future.set_result(task(*args))
        except Exception as error:
            future.set_exception(error)
        return future


def validation_warnings(entries: Iterable[dict], problems: list[dict], into: Spool) -> Spool:
    """The entries, into the spool, each record warned of the problems found in its rows (or
    of those found in no row: all are)."""
    offsets = dict.fromkeys(tables([]), 0)
    for entry in entries:
        record = entry["record"]
        counts = {table: len(rows) for table, rows in tables([record]).items()}
        for problem in problems:
            table, row = problem["table"], problem["row"]
            mine = bool(row) and row >= 2 and offsets[table] <= row - 2 < offsets[table] + counts[table]
            if mine or not row or row < 2:
                problem_warning = warning(
                    "controle_jeu_de_donnees", table=table, row=row, message=problem["message"]
                )
                add_warning(record, problem_warning)
        for table, count in counts.items():
            offsets[table] += count
        into.add(entry)
    return into
