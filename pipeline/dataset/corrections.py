"""The data officer's corrections: a corrections.csv (fichier_source,champ,valeur) whose values
replace what was extracted, run after run. The file is only ever read."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.dataset.review import dotted
from pipeline.dataset.tables import schema

COLUMNS = ["fichier_source", "champ", "valeur"]
FILE_NAME = "corrections.csv"
TRUE, FALSE = {"true", "vrai", "oui", "1"}, {"false", "faux", "non", "0"}
LISTS = {"montants", "signataires"}
FIXED = {"id", "fichier_source"}  # what identifies a record is not corrected
PRODUCT_SEPARATORS = re.compile(r"\s*[;|]\s*")


class CorrectionError(ValueError):
    """A corrections file that cannot be read at all."""


@dataclass(frozen=True, slots=True)
class Correction:
    source: str  # fichier_source of the record it fixes
    field: str  # "delegant.sigle", "montants.1.montant", "produits"
    value: str  # as written; empty means "no value"
    where: str  # "corrections.csv:3"


def find_corrections(paths: list[Path], given: Path | None) -> list[Path]:
    """The file given with --corrections, else a corrections.csv at the top of an input folder."""
    if given:
        return [given]
    return [path / FILE_NAME for path in paths if path.is_dir() and (path / FILE_NAME).is_file()]


def read_corrections(path: Path) -> list[Correction]:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(text.splitlines()))
    if not rows or [cell.strip() for cell in rows[0][:3]] != COLUMNS:
        raise CorrectionError(f"{path}: the first line must be {','.join(COLUMNS)}")
    found = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        source, field, value = (row + ["", "", ""])[:3]
        found.append(Correction(source.strip(), field.strip(), value.strip(), f"{path.name}:{number}"))
    return found


def apply_corrections(records: list[dict], corrections: list[Correction]) -> list[str]:
    """Apply each correction to its record; what could not be applied, one line each."""
    by_source = {record["fichier_source"]: record for record in records}
    problems = []
    for correction in corrections:
        record = by_source.get(correction.source)
        if record is None:
            problems.append(f"{correction.where}: no convention from '{correction.source}' in this run")
            continue
        try:
            apply_one(record, correction)
        except ValueError as error:
            message = f"{correction.where}: correction of {correction.field} not applied: {error}"
            record["warnings"].append(message)
            problems.append(message)
    return problems


def apply_one(record: dict, correction: Correction) -> None:
    parts = dotted(correction.field).split(".")
    if parts[0] in FIXED:
        raise ValueError(f"{parts[0]} identifies the convention and cannot be corrected")
    if parts[0] in LISTS:
        previous = set_in_list(record, parts, correction.value)
    elif parts == ["produits"]:
        previous = record["produits"]
        record["produits"] = [p for p in PRODUCT_SEPARATORS.split(correction.value) if p]
    else:
        previous = set_scalar(record, parts, typed(correction.value, "conventions", "_".join(parts)))
    record["evidence"][evidence_key(parts)] = {
        "source": "correction",
        "text": correction.value,
        "start": None,
        "end": None,
        "page": None,
        "confidence": 1.0,
        "rule": correction.where,
        "previous": previous,
    }


def set_scalar(record: dict, parts: list[str], value: object) -> object:
    node = record
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or parts[-1] not in node or isinstance(node[parts[-1]], (dict, list)):
        raise ValueError("no such field in the dataset")
    previous, node[parts[-1]] = node[parts[-1]], value
    return previous


def set_in_list(record: dict, parts: list[str], raw: str) -> object:
    """ "montants.1.montant" sets a value of the second amount line; "montants.2.…" on a list of
    two adds a line; "montants.1" with no value removes the line."""
    table, items = parts[0], record[parts[0]]
    if len(parts) < 2 or not parts[1].isdigit() or len(parts) > 3:
        raise ValueError(f"write {table}.N.field, N counting from 0")
    index = int(parts[1])
    if len(parts) == 2:
        if raw or index >= len(items):
            raise ValueError(f"only an empty value removes a line of {table}")
        return items.pop(index)
    if index > len(items):
        raise ValueError(f"{table} has {len(items)} lines: add them in order")
    if index == len(items):
        items.append(dict.fromkeys(item_fields(table)))
    if parts[2] not in items[index]:
        raise ValueError("no such field in the dataset")
    previous, items[index][parts[2]] = items[index][parts[2]], typed(raw, table, parts[2])
    return previous


def item_fields(table: str) -> list[str]:
    keys = ("convention_id", "fichier_source")
    return [field["name"] for field in schema(table)["fields"] if field["name"] not in keys]


def typed(raw: str, table: str, column: str) -> object:
    """The value in the type the Table Schema gives the column; an empty one is null."""
    field = next((f for f in schema(table)["fields"] if f["name"] == column), None)
    if field is None:
        raise ValueError("no such field in the dataset")
    if raw == "":
        return None
    kind = field["type"]
    if kind == "boolean":
        if raw.lower() not in TRUE | FALSE:
            raise ValueError(f"'{raw}' is not true or false")
        return raw.lower() in TRUE
    if kind in ("integer", "number", "year"):
        return number(raw, kind)
    if kind == "date":
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            raise ValueError(f"'{raw}' is not a date written YYYY-MM-DD") from None
    constraints = field.get("constraints", {})
    if "enum" in constraints and raw not in constraints["enum"]:
        raise ValueError(f"'{raw}' is not one of {', '.join(constraints['enum'])}")
    if "pattern" in constraints and not re.fullmatch(constraints["pattern"], raw):
        raise ValueError(f"'{raw}' does not match {constraints['pattern']}")
    return raw


def number(raw: str, kind: str) -> int | float:
    text = re.sub(r"[\s\u00a0\u202f€]|euros?", "", raw, flags=re.IGNORECASE).replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"'{raw}' is not a number") from None
    if kind != "number" and not value.is_integer():
        raise ValueError(f"'{raw}' is not a whole number")
    return int(value) if value.is_integer() else value


def evidence_key(parts: list[str]) -> str:
    if parts[0] in LISTS:
        return f"{parts[0]}[{parts[1]}]" + (f".{parts[2]}" if len(parts) > 2 else "")
    return ".".join(parts)
