"""Write the dataset: JSON records, CSV tables and the errors report, each atomically.

The published tables (conventions.csv, montants.csv, signataires.csv) and conventions.json keep
every value as extracted; the files made for reading in a spreadsheet (errors.csv, review.csv)
defuse what would run as a formula there."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TextIO

from pipeline.dataset.links import DUPLICATE_COLUMNS
from pipeline.dataset.tables import TABLES, columns, tables

ERROR_COLUMNS = ["fichier", "type_erreur", "message"]
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UMASK = os.umask(0o022)
os.umask(UMASK)


class Spool:
    """Values kept in a file, not in memory, and read back one at a time in the order of their
    keys (a file's rank in the run, a row's priority): a run holds one record at a time,
    however many it reads."""

    def __init__(self, folder: Path, prefix: str = ".spool-"):
        handle, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=".tmp")
        os.close(handle)
        self.path = Path(name)
        self.places: dict = {}  # by key (any keys that sort together): offset and size

    def add(self, value: dict, key: object = None) -> None:
        data = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
        with open(self.path, "ab") as stream:
            self.places[len(self.places) if key is None else key] = (stream.tell(), len(data))
            stream.write(data)

    def __len__(self) -> int:
        return len(self.places)

    def __iter__(self) -> Iterator[dict]:
        with open(self.path, "rb") as stream:
            for key in sorted(self.places):
                start, size = self.places[key]
                stream.seek(start)
                yield json.loads(stream.read(size).decode("utf-8", "surrogatepass"))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary file beside the target, then replace it: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~UMASK)  # as open() would have made it, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def atomic_stream(path: Path) -> Iterator[TextIO]:
    """A text file written as it goes, under a temporary name beside the target, which it
    replaces when the writing is done: as write_atomic, without holding the content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.chmod(temporary, 0o666 & ~UMASK)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def csv_text(rows: Iterable[dict], header: list[str], for_spreadsheets: bool = False) -> str:
    """UTF-8 with a byte-order mark, which tells Excel and LibreOffice the encoding when the file
    is opened by double-click (readers of the published tables skip it). A file made for
    spreadsheets only also has its formula-like cells defused."""
    buffer = io.StringIO()
    csv_rows(buffer, rows, header, for_spreadsheets)
    return buffer.getvalue()


def write_csv(path: Path, rows: Iterable[dict], header: list[str], for_spreadsheets: bool = False) -> None:
    """csv_text's file, each row written as it comes."""
    with atomic_stream(path) as stream:
        csv_rows(stream, rows, header, for_spreadsheets)


def csv_rows(stream: TextIO, rows: Iterable[dict], header: list[str], for_spreadsheets: bool) -> None:
    stream.write(BOM)
    writer = csv.DictWriter(stream, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        cells = {key: csv_value(row.get(key)) for key in header}
        writer.writerow({key: defused(cell) for key, cell in cells.items()} if for_spreadsheets else cells)


def defused(cell: object) -> object:
    """A text a spreadsheet would run as a formula, written with a leading apostrophe: shown as
    text, never run (OWASP's advice against CSV injection)."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


def csv_value(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value is None else value


def write_dataset(
    records: Iterable[dict], errors: list[dict], outdir: Path, duplicates: list[dict] | None = None
) -> list[Path]:
    """conventions.json (a JSON array, one record per line: quick to write, easy to diff and to
    grep) and the tables, each record written as it comes; then errors.csv and doublons.csv
    (the readings of a convention left out, as it was read from another file too)."""
    written = [outdir / "conventions.json", *(outdir / f"{name}.csv" for name in TABLES)]
    with ExitStack() as stack:
        array, *streams = (stack.enter_context(atomic_stream(path)) for path in written)
        writers = {}
        for name, stream in zip(TABLES, streams, strict=True):
            stream.write(BOM)
            writers[name] = csv.DictWriter(stream, fieldnames=columns(name), lineterminator="\n")
            writers[name].writeheader()
        array.write("[")
        count = 0
        for record in records:
            array.write(("\n" if not count else ",\n") + json.dumps(record, ensure_ascii=False))
            count += 1
            for name, rows in tables([record]).items():
                writers[name].writerows(
                    {key: csv_value(row.get(key)) for key in columns(name)} for row in rows
                )
        array.write("\n]\n" if count else "]\n")
    errors_path = outdir / "errors.csv"
    write_atomic(errors_path, csv_text(errors, ERROR_COLUMNS, for_spreadsheets=True))
    duplicates_path = outdir / "doublons.csv"
    write_atomic(duplicates_path, csv_text(duplicates or [], DUPLICATE_COLUMNS, for_spreadsheets=True))
    return [*written, errors_path, duplicates_path]
