"""The address where each act is published, from a table the producer gives (--sources): a CSV of
fichier_source,url_source whose address goes to the url_source of the convention read from that
file. The file is only ever read."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.dataset.corrections import DELIMITERS, decoded

COLUMNS = ["fichier_source", "url_source"]


class SourcesError(ValueError):
    """A sources table that cannot be used: none of it is applied."""


def read_sources(path: Path) -> dict[str, str]:
    """File name -> address; a row naming a path is known by its file name."""
    text = decoded(path.read_bytes(), path)
    header = text.partition("\n")[0]
    delimiter = next((d for d in DELIMITERS if cells(header, d)[:2] == COLUMNS), None)
    if delimiter is None:
        raise SourcesError(f"{path} : la première ligne doit être {','.join(COLUMNS)}")
    found: dict[str, str] = {}
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    next(rows)
    for number, row in enumerate(rows, start=2):
        name, url = ([cell.strip() for cell in row] + ["", ""])[:2]
        if not name and not url:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SourcesError(f"{path}, ligne {number} : « {url} » n'est pas une adresse http(s)")
        name = Path(name).name
        if found.get(name, url) != url:
            raise SourcesError(f"{path}, ligne {number} : deux adresses pour {name}")
        found[name] = url
    return found


def cells(line: str, delimiter: str) -> list[str]:
    return [cell.strip().strip('"').lstrip("\ufeff") for cell in line.split(delimiter)]


def add_sources(records: list[dict], urls: dict[str, str]) -> None:
    """Every record gets its url_source: the address of its file (known by its name), or None."""
    for record in records:
        record["url_source"] = urls.get(Path(record["fichier_source"]).name)
