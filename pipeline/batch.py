"""Run the pipeline over many files: one record or one error line per file, never a crash."""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.cache import Cache
from pipeline.dataset.corrections import apply_corrections, drop_answered, find_corrections, read_corrections
from pipeline.dataset.links import SAME_TEXT, drop_duplicates, link_avenants
from pipeline.dataset.package import validate_package, write_package
from pipeline.dataset.review import reviewed_fields, write_review
from pipeline.dataset.tables import tables
from pipeline.dataset.write import write_atomic, write_dataset
from pipeline.extract.checks import apply_checks
from pipeline.model import Options, Outcome
from pipeline.outdir import OutputFolder
from pipeline.patterns import Patterns, load_patterns
from pipeline.read import SUFFIXES


@dataclass(slots=True)
class Summary:
    records: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    excerpts: dict[str, list] = field(default_factory=dict)  # by record id
    crops: dict[str, dict] = field(default_factory=dict)  # by record id, then evidence key
    notices: list[str] = field(default_factory=list)  # corrections that could not be applied
    corrections: list = field(default_factory=list)  # the rows read, for review.html to export again
    kept: bool = False  # no convention read: the dataset already in the output folder was kept
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
    with OutputFolder(outdir) as output:
        location = options.cache or outdir / ".cache"
        cache = Cache(location, settings(options)) if options.use_cache else None
        keys = content_keys(files, cache)
        run_key = whole_run_key(files, keys, correction_files, cache) if not skipped else None
        if run_key and (last := cache.last_run(run_key, outdir)):
            records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
            return Summary(records, last["errors"], notices=last["notices"])
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
        written = publishable(summary, output.building(), review, options.jobs or os.cpu_count() or 1)
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
    for record, _, _ in outcome.readings():
        record["fichier_source"] = path.name
    if outcome.error:
        outcome.error["fichier"] = str(path)
    outcome.path = str(path)
    return outcome


def summarise(results: list[Outcome]) -> Summary:
    summary = Summary()
    by_file = []
    for outcome in results:
        if outcome.error:
            summary.errors.append(outcome.error)
            continue
        summary.other_acts += outcome.other_acts
        by_file.append((outcome.path, [record for record, _, _ in outcome.readings()]))
        for record, excerpts, crops in outcome.readings():
            summary.records.append(record)
            summary.excerpts.setdefault(record["id"], excerpts)
            summary.crops.setdefault(record["id"], crops)
    summary.records, summary.duplicates = drop_duplicates(summary.records)
    summary.errors += copies(by_file, summary)
    link_avenants(summary.records)
    return summary


def copies(by_file: list[tuple[str, list[dict]]], summary: Summary) -> list[dict]:
    """An error line for each file that is a copy of another (the same text): it gave no
    record. Another reading of a convention (its scan, another bulletin) is no error: it is
    listed in doublons.csv only."""
    kept = {id(record) for record in summary.records}
    lines = {line["id"]: line for line in summary.duplicates if line["motif"] == SAME_TEXT}
    errors = []
    for path, records in by_file:
        if not any(id(record) in kept for record in records) and records[0]["id"] in lines:
            message = f"même convention que {lines[records[0]['id']]['fichier_garde']}"
            errors.append({"fichier": path, "type_erreur": "doublon", "message": message})
    return errors


def publishable(summary: Summary, outdir: Path, review: dict, jobs: int = 1) -> list[Path]:
    """Write the dataset and its package, check them with frictionless (what the check finds
    becomes warnings on the records concerned), then what the officer reviews; with more than
    one job, the check and the workbook are done in processes of their own meanwhile.
    Returns the files written."""
    records, errors = summary.records, summary.errors

    def review_files(reviewed: list) -> list[Path]:
        extras = (summary.corrections, summary.notices, summary.crops)
        return write_review(reviewed, summary.excerpts, review, outdir, *extras)

    reviewed = reviewed_fields(records, review)
    with side_pool() if jobs > 1 else Inline() as side:
        book = side.submit(workbook_bytes, reviewed, review)
        outputs = write_dataset(records, errors, outdir, summary.duplicates)
        outputs += write_package(outdir, [r["fichier_source"] for r in records])
        checked = side.submit(validate_package, outdir / "datapackage.json")
        outputs += review_files(reviewed)
        problems, content = checked.result(), book.result()
    if problems:
        validation_warnings(records, problems)
        write_dataset(records, errors, outdir, summary.duplicates)
        reviewed = reviewed_fields(records, review)
        review_files(reviewed)
        content = workbook_bytes(reviewed, review)
    outputs.append(outdir / "conventions.xlsx")
    write_atomic(outputs[-1], content)
    return outputs


def side_pool() -> ProcessPoolExecutor:
    from pipeline.worker import die_with

    return ProcessPoolExecutor(2, initializer=die_with, initargs=(os.getpid(),))


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
