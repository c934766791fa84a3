"""Run the pipeline over many files: one record or one error line per file, never a crash."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.cache import Cache
from pipeline.dataset.corrections import apply_corrections, find_corrections, read_corrections
from pipeline.dataset.package import validate_package, write_package
from pipeline.dataset.review import write_review
from pipeline.dataset.tables import tables
from pipeline.dataset.write import write_atomic, write_dataset
from pipeline.extract.checks import apply_checks
from pipeline.model import Options, Outcome, as_dict
from pipeline.patterns import Patterns, load_patterns
from pipeline.read import SUFFIXES


@dataclass(slots=True)
class Summary:
    records: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    excerpts: dict[str, list] = field(default_factory=dict)  # by record id
    crops: dict[str, dict] = field(default_factory=dict)  # by record id, then evidence key
    notices: list[str] = field(default_factory=list)  # corrections that could not be applied

    @property
    def line(self) -> str:
        kinds: dict[str, int] = {}
        for error in self.errors:
            kinds[error["type_erreur"]] = kinds.get(error["type_erreur"], 0) + 1
        detail = "".join(f", {count} {kind}" for kind, count in sorted(kinds.items()))
        return f"{len(self.records)} conventions extracted, {len(self.errors)} files not extracted{detail}"


def collect(paths: list[Path]) -> list[Path]:
    """The readable files under the given paths, recursively, in a stable order."""
    files = []
    for path in paths:
        if path.is_dir():
            files += [p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in SUFFIXES]
        else:
            files.append(path)
    return files


def run(paths: list[Path], outdir: Path, options: Options = Options()) -> Summary:
    files = collect(paths)
    correction_files = find_corrections(paths, options.corrections)
    corrections = [c for path in correction_files for c in read_corrections(path)]
    cache = Cache(outdir / ".cache", settings(options)) if options.use_cache else None
    keys = content_keys(files, cache)
    run_key = whole_run_key(files, keys, correction_files, cache)
    if run_key and (last := cache.last_run(run_key, outdir)):
        records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
        return Summary(records, last["errors"], notices=last["notices"])
    patterns = load_patterns()
    results = read_all(files, keys, cache, options, patterns)
    summary = summarise([results[path] for path in files])
    review = patterns["review"]
    summary.notices = apply_corrections(summary.records, corrections)
    for record in summary.records:
        apply_checks(record, review)
    outputs = publishable(summary, outdir, review, options.jobs or os.cpu_count() or 1)
    if run_key:
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
    """Each file's outcome: from the cache when its content was read before, else read now."""
    results = {}
    for path, key in keys.items():
        hit = cache.get(key)
        if hit:
            results[path] = renamed(Outcome(**hit), path)
    todo = [path for path in files if path not in results]
    for path, outcome in zip(todo, outcomes(todo, options, patterns), strict=True):
        results[path] = outcome
        if cache and path in keys and not internal(outcome):
            cache.put(keys[path], as_dict(outcome))
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


def internal(outcome: Outcome) -> bool:
    return bool(outcome.error) and outcome.error["type_erreur"] == "internal_error"


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
                    "type_erreur": "duplicate",
                    "message": f"same convention as {first}",
                }
            )
            continue
        summary.records.append(outcome.record)
        summary.excerpts[outcome.record["id"]] = outcome.excerpts or []
        summary.crops[outcome.record["id"]] = outcome.crops or {}
    return summary


def publishable(summary: Summary, outdir: Path, review: dict, jobs: int = 1) -> list[Path]:
    """Write the dataset and its package, check them with frictionless (what the check finds
    becomes warnings on the records concerned), then what the officer reviews; with more than
    one job, the check and the workbook are done in processes of their own meanwhile.
    Returns the files written."""
    records, errors = summary.records, summary.errors
    with ProcessPoolExecutor(2) if jobs > 1 else Inline() as side:
        book = side.submit(workbook_bytes, records, review)
        outputs = write_dataset(records, errors, outdir)
        outputs += write_package(outdir, [r["fichier_source"] for r in records])
        checked = side.submit(validate_package, outdir / "datapackage.json")
        outputs += write_review(records, summary.excerpts, review, outdir, summary.crops)
        problems, content = checked.result(), book.result()
    if problems:
        validation_warnings(records, problems)
        write_dataset(records, errors, outdir)
        write_review(records, summary.excerpts, review, outdir, summary.crops)
        content = workbook_bytes(records, review)
    outputs.append(outdir / "conventions.xlsx")
    write_atomic(outputs[-1], content)
    return outputs


def workbook_bytes(records: list[dict], review: dict) -> bytes:
    from pipeline.dataset.workbook import workbook_bytes as build  # openpyxl loads only where it is used

    return build(records, review)


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
        message = f"dataset check: {table}.csv row {row}: {problem['message']}"
        for record in [owner] if owner else records:
            record["warnings"].append(message)


def record_of(records: list[dict], row: dict) -> dict | None:
    key = row.get("id") or row.get("convention_id")
    return next((r for r in records if r["id"] == key), None)


def outcomes(files: list[Path], options: Options, patterns: Patterns) -> Iterator[Outcome]:
    """Each file's outcome, in order, from one process or from a pool of them (forked: they
    share the patterns loaded here)."""
    if not files:
        return
    # The extraction code loads only when a file needs reading: a cached re-run starts faster.
    from pipeline.worker import process, start_worker

    cores = os.cpu_count() or 1
    jobs = min(options.jobs or cores, len(files))
    # The cores that files do not use go to the pages of a file being OCR'd.
    options = replace(options, limits=replace(options.limits, ocr_workers=max(1, cores // jobs)))
    progress = Progress(len(files))
    if jobs <= 1:
        start_worker(options, patterns)
        yield from progress.track(map(process, files))
        return
    with ProcessPoolExecutor(jobs, initializer=start_worker, initargs=(options, patterns)) as pool:
        yield from progress.track(pool.map(process, files, chunksize=8))


class Progress:
    """A progress bar on a terminal; otherwise a plain line at every tenth of the files."""

    def __init__(self, total: int):
        self.total = total
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="file", desc="extract")

    def track(self, results: Iterable[Outcome]) -> Iterator[Outcome]:
        step = max(1, self.total // 10)
        for done, outcome in enumerate(results, start=1):
            if self.bar:
                self.bar.update()
            elif self.total >= 20 and (done % step == 0 or done == self.total):
                print(f"extract: {done}/{self.total} files", file=sys.stderr)
            yield outcome
        if self.bar:
            self.bar.close()
