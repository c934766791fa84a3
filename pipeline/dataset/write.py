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
from pathlib import Path

from pipeline.dataset.links import DUPLICATE_COLUMNS
from pipeline.dataset.tables import columns, tables

ERROR_COLUMNS = ["fichier", "type_erreur", "message"]
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UMASK = os.umask(0o022)
os.umask(UMASK)


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


def csv_text(rows: list[dict], header: list[str], for_spreadsheets: bool = False) -> str:
    """UTF-8 with a byte-order mark, which tells Excel and LibreOffice the encoding when the file
    is opened by double-click (readers of the published tables skip it). A file made for
    spreadsheets only also has its formula-like cells defused."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        cells = {key: csv_value(row.get(key)) for key in header}
        writer.writerow({key: defused(cell) for key, cell in cells.items()} if for_spreadsheets else cells)
    return BOM + buffer.getvalue()


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


def json_lines_array(records: list[dict]) -> str:
    """A JSON array with one record per line: quick to write, easy to diff and to grep."""
    lines = ",\n".join(json.dumps(record, ensure_ascii=False) for record in records)
    return f"[\n{lines}\n]\n" if records else "[]\n"


def write_dataset(
    records: list[dict], errors: list[dict], outdir: Path, duplicates: list[dict] | None = None
) -> list[Path]:
    """The JSON records, the CSV tables, errors.csv and doublons.csv (the readings of a
    convention left out, as it was read from another file too)."""
    written = [outdir / "conventions.json"]
    write_atomic(written[0], json_lines_array(records))
    for name, rows in tables(records).items():
        path = outdir / f"{name}.csv"
        write_atomic(path, csv_text(rows, columns(name)))
        written.append(path)
    errors_path = outdir / "errors.csv"
    write_atomic(errors_path, csv_text(errors, ERROR_COLUMNS, for_spreadsheets=True))
    duplicates_path = outdir / "doublons.csv"
    write_atomic(duplicates_path, csv_text(duplicates or [], DUPLICATE_COLUMNS, for_spreadsheets=True))
    return [*written, errors_path, duplicates_path]
