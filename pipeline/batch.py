"""Run the pipeline over many files: one record or one error line per file, never a crash."""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.cache import Cache
from pipeline.dataset.corrections import apply_corrections, drop_answered, find_corrections, read_corrections
from pipeline.dataset.package import validate_package, write_package
from pipeline.dataset.review import reviewed_fields, write_review
from pipeline.dataset.tables import tables
from pipeline.dataset.write import write_atomic, write_dataset
from pipeline.extract.checks import apply_checks
from pipeline.model import Options, Outcome
from pipeline.outdir import OutputFolder
from pipeline.patterns import Patterns, load_patterns
from pipeline.read import SUFFIXES

# The package check and the workbook run beside the review in at most this many processes.
SIDE_PROCESSES = 2


@dataclass(slots=True)
class Summary:
    records: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    excerpts: dict[str, list] = field(default_factory=dict)  # by record id
    crops: dict[str, dict] = field(default_factory=dict)  # by record id, then evidence key
    notices: list[str] = field(default_factory=list)  # corrections that could not be applied
    corrections: list = field(default_factory=list)  # the rows read, for review.html to export again
    kept: bool = False  # no convention read: the dataset already in the output folder was kept

    @property
    def line(self) -> str:
        kinds: dict[str, int] = {}
        for error in self.errors:
            kinds[error["type_erreur"]] = kinds.get(error["type_erreur"], 0) + 1
        detail = ", ".join(f"{kind} : {count}" for kind, count in sorted(kinds.items()))
        extracted = counted(len(self.records), "convention extraite", "conventions extraites")
        missed = counted(len(self.errors), "fichier non extrait", "fichiers non extraits")
        return f"{extracted}, {missed}" + (f" ({detail})" if detail else "")


def counted(count: int, one: str, many: str) -> str:
    """ "0 fichier non extrait", "1 convention extraite", "2 conventions extraites": French
    takes the singular below two."""
    return f"{count} {one if count < 2 else many}"


def collect(paths: list[Path]) -> tuple[list[Path], list[dict]]:
    """The readable files under the given paths, recursively (symbolic links followed), in a
    stable order; and an error line for each one that cannot be read as a file: a link that
    loops or leads nowhere, a named pipe, a socket or a device with a readable suffix."""
    files: list[Path] = []
    skipped: list[dict] = []
    for path in paths:
        if path.is_dir():
            status = path.stat()
            walk(path, {(status.st_dev, status.st_ino)}, set(), files, skipped)
        else:
            take(path, files, skipped)
    return sorted(files), skipped


def walk(folder: Path, ancestors: set, seen: set, files: list[Path], skipped: list[dict]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as error:
        skipped.append(not_read(folder, "illisible", f"dossier illisible : {error.strerror}"))
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            status = path.stat()
        except OSError as error:
            if entry.is_symlink() and path.suffix.lower() in SUFFIXES | {""}:
                skipped.append(bad_link(path, error))
            continue
        if stat.S_ISDIR(status.st_mode):
            folder_id = (status.st_dev, status.st_ino)
            if folder_id in ancestors:
                target = os.path.realpath(path)
                message = f"lien symbolique en boucle : il ramène au dossier « {target} », déjà parcouru"
                skipped.append(not_read(path, "lien_en_boucle", message))
            elif folder_id not in seen:  # a second link to a folder: its files are read once
                seen.add(folder_id)
                walk(path, ancestors | {folder_id}, seen, files, skipped)
        elif path.suffix.lower() in SUFFIXES:
            take(path, files, skipped, status)


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
    return not_read(path, "lien_casse", f"lien symbolique cassé : « {target} » n'existe pas")


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
    return {"fichier": str(path), "type_erreur": kind, "message": message}


def run(paths: list[Path], outdir: Path, options: Options = Options()) -> Summary:
    """Read every file under `paths` and write the dataset to `outdir`, in one step; a run that
    reads no convention leaves a dataset already there as it was (`Summary.kept`)."""
    files, skipped = collect(paths)
    correction_files = find_corrections(paths, options.corrections)
    corrections = [c for path in correction_files for c in read_corrections(path)]
    with OutputFolder(outdir) as output, Beside(options, len(files)) as beside:
        location = options.cache or outdir / ".cache"
        cache = Cache(location, settings(options)) if options.use_cache else None
        keys = content_keys(files, cache)
        run_key = whole_run_key(files, keys, correction_files, cache) if not skipped else None
        if run_key and (last := cache.last_run(run_key, outdir)):
            records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
            return Summary(records, last["errors"], notices=last["notices"])
        beside.start()
        patterns = load_patterns()
        results = read_all(files, keys, cache, options, patterns)
        summary = summarise([results[path] for path in files])
        summary.errors = skipped + summary.errors
        if not summary.records and output.has_dataset():
            summary.kept = True
            return summary
        review = patterns["review"]
        summary.notices = apply_corrections(summary.records, corrections)
        summary.corrections = corrections
        for record in summary.records:
            apply_checks(record, review)
            drop_answered(record, review)
        written = publishable(summary, output.building(), review, beside.executor())
        output.commit(written)
    if run_key:
        outputs = [outdir / path.name for path in written]
        cache.remember_run(run_key, outputs, {"errors": summary.errors, "notices": summary.notices})
    return summary


def content_keys(files: list[Path], cache: Cache | None) -> dict[Path, str]:
    if cache is None:
        return {}
    keys = {path: cache.key(path) for path in files if path.exists()}
    cache.remember_keys(list(keys))
    return keys


def whole_run_key(
    files: list[Path], keys: dict[Path, str], correction_files: list[Path], cache: Cache | None
) -> str | None:
    """The key of the whole run, when every file has one: its files and its corrections."""
    if cache is None or len(keys) != len(files):
        return None
    fixes = b"".join(path.read_bytes() for path in correction_files)
    return cache.run_key([(str(path), key) for path, key in keys.items()], fixes)


def read_all(
    files: list[Path], keys: dict[Path, str], cache: Cache | None, options: Options, patterns: Patterns
) -> dict:
    """Each file's outcome: from the cache when its content was read before, else read now (and
    cached by the worker that read it)."""
    results = {}
    for path, key in keys.items():
        hit = cache.get(key)
        if hit:
            results[path] = renamed(Outcome(**hit), path)
    todo = [path for path in files if path not in results]
    # The extraction code loads only when a file needs reading: a cached re-run starts faster.
    from pipeline.units import outcomes

    for path, outcome in outcomes(todo, keys, options, patterns, cache.location if cache else None):
        results[path] = renamed(outcome, path)
    return results


def settings(options: Options) -> str:
    return f"{options.use_spacy}|{options.limits}"


def renamed(outcome: Outcome, path: Path) -> Outcome:
    """A cached outcome, told about the file it now comes from."""
    if outcome.record:
        outcome.record["fichier_source"] = path.name
    if outcome.error:
        outcome.error["fichier"] = str(path)
    outcome.path = str(path)
    return outcome


def summarise(results: list[Outcome]) -> Summary:
    summary = Summary()
    seen: dict[str, str] = {}
    for outcome in results:
        if outcome.error:
            summary.errors.append(outcome.error)
            continue
        first = seen.setdefault(outcome.record["id"], outcome.path)
        if first != outcome.path:
            summary.errors.append(
                {
                    "fichier": outcome.path,
                    "type_erreur": "doublon",
                    "message": f"même convention que {first}",
                }
            )
            continue
        summary.records.append(outcome.record)
        summary.excerpts[outcome.record["id"]] = outcome.excerpts or []
        summary.crops[outcome.record["id"]] = outcome.crops or {}
    return summary


def publishable(summary: Summary, outdir: Path, review: dict, side: Executor | None = None) -> list[Path]:
    """Write the dataset and its package, check them with frictionless (what the check finds
    becomes warnings on the records concerned), then what the officer reviews; the check and
    the workbook go to `side` (else are done here) meanwhile. Returns the files written."""
    records, errors = summary.records, summary.errors

    def review_files(reviewed: list) -> list[Path]:
        extras = (summary.corrections, summary.notices, summary.crops)
        return write_review(reviewed, summary.excerpts, review, outdir, *extras)

    reviewed = reviewed_fields(records, review)
    side = side or Inline()
    book = side.submit(workbook_bytes, reviewed, review)
    outputs = write_dataset(records, errors, outdir)
    outputs += write_package(outdir, [r["fichier_source"] for r in records])
    checked = side.submit(validate_package, outdir / "datapackage.json")
    outputs += review_files(reviewed)
    problems, content = checked.result(), book.result()
    if problems:
        validation_warnings(records, problems)
        write_dataset(records, errors, outdir)
        reviewed = reviewed_fields(records, review)
        review_files(reviewed)
        content = workbook_bytes(reviewed, review)
    outputs.append(outdir / "conventions.xlsx")
    write_atomic(outputs[-1], content)
    return outputs


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

    def __exit__(self, *exc) -> None:
        if self.pool:
            self.pool.shutdown(cancel_futures=True)

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


def validation_warnings(records: list[dict], problems: list[dict]) -> None:
    rows = tables(records)
    for problem in problems:
        table, row = problem["table"], problem["row"]
        owner = record_of(records, rows[table][row - 2]) if row and row >= 2 else None
        message = f"contrôle du jeu de données : {table}.csv, ligne {row} : {problem['message']}"
        for record in [owner] if owner else records:
            record["warnings"].append(message)


def record_of(records: list[dict], row: dict) -> dict | None:
    key = row.get("id") or row.get("convention_id")
    return next((r for r in records if r["id"] == key), None)
