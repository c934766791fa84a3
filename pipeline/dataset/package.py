"""The data package: the Table Schemas of schema/ copied beside the CSVs, datapackage.json, and
their validation."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from pipeline import __version__
from pipeline.cache import code_version
from pipeline.dataset.tables import SCHEMA_DIR, TABLES, schema
from pipeline.dataset.write import write_atomic

LICENCE = {
    "name": "etalab-2.0",
    "title": "Licence Ouverte / Open Licence version 2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
}
SOURCE = {
    "title": "Conventions de délégation de gestion publiées par les services de l'État "
    "(décret n° 2004-1085 du 14 octobre 2004, article 2)",
}


def descriptor(sources: list[str], outdir: Path) -> dict:
    return {
        "name": "conventions-delegation-de-gestion",
        "title": "Conventions de délégation de gestion entre services de l'État",
        "description": (
            "Parties, représentants, codes Chorus, montants (AE/CP), dates, durées et signataires des "
            "conventions de délégation de gestion, extraits des documents publiés. Chaque valeur du "
            "fichier conventions.json garde le passage du texte dont elle est tirée."
        ),
        "keywords": json.loads((SCHEMA_DIR / "datapackage.json").read_text(encoding="utf-8"))["keywords"],
        "licenses": [LICENCE],
        "sources": [{**SOURCE, "files": sources}] if sources else [SOURCE],
        "created": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "contributors": [{"title": f"conventions-extract {__version__}", "role": "wrangler"}],
        "resources": [resource(name, outdir) for name in TABLES],
    }


def resource(name: str, outdir: Path) -> dict:
    return {
        "name": name,
        "title": schema(name)["title"],
        "description": schema(name)["description"],
        "path": f"{name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": encoding(outdir / f"{name}.csv"),
        "schema": f"{name}.schema.json",
    }


def encoding(path: Path) -> str:
    """utf-8-sig for a CSV written with a byte order mark (for spreadsheets), else utf-8."""
    with path.open("rb") as stream:
        return "utf-8-sig" if stream.read(3) == b"\xef\xbb\xbf" else "utf-8"


def write_package(outdir: Path, sources: list[str]) -> list[Path]:
    written = []
    for name in TABLES:
        written.append(outdir / f"{name}.schema.json")
        write_atomic(written[-1], (SCHEMA_DIR / name / "schema.json").read_bytes())
    written.append(outdir / "datapackage.json")
    write_atomic(written[-1], json.dumps(descriptor(sources, outdir), ensure_ascii=False, indent=2) + "\n")
    return written


def validate_package(path: Path) -> list[dict]:
    """Every error frictionless finds: the table, the row (1 = header) and the message.
    The answer is kept beside the package, keyed on the tables' content, for re-runs."""
    digest = hashlib.sha256(code_version().encode())
    for name in TABLES:
        digest.update((path.parent / f"{name}.csv").read_bytes())
    kept = path.parent / ".cache" / f"validation-{digest.hexdigest()}.json"
    if kept.exists():
        return json.loads(kept.read_text(encoding="utf-8"))
    errors = frictionless_errors(path)
    write_atomic(kept, json.dumps(errors))
    return errors


def frictionless_errors(path: Path) -> list[dict]:
    from frictionless import Package, system

    with system.use_context(trusted=True):
        report = Package(str(path)).validate()
    errors = []
    for task in report.tasks:
        for error in task.errors:
            errors.append(
                {
                    "table": task.name,
                    "row": getattr(error, "row_number", None),
                    "message": in_french(error),
                }
            )
    return errors


CONSTRAINTS = {
    "pattern": "la forme attendue",
    "enum": "les valeurs permises",
    "minimum": "le minimum",
    "maximum": "le maximum",
    "required": "la présence obligatoire d'une valeur",
    "unique": "l'unicité",
}


def in_french(error: object) -> str:
    """What frictionless found, said in French for the warnings of the records concerned."""
    field = getattr(error, "field_name", None)
    cell = getattr(error, "cell", None)
    kind = error.type
    if kind == "constraint-error":
        name = re.search(r'constraint "(\w+)"', error.note or "")
        what = CONSTRAINTS.get(name[1], name[1]) if name else "une contrainte"
        return f"« {cell} » ne respecte pas {what} de la colonne {field}"
    if kind == "type-error":
        return f"« {cell} » n'est pas du type de la colonne {field}"
    if kind in ("unique-error", "primary-key"):
        return f"valeur en double dans la colonne {field or 'id'}"
    if kind == "foreign-key":
        return "convention_id sans convention de ce nom dans conventions.csv"
    if kind == "missing-cell":
        return f"cellule manquante dans la colonne {field}"
    if kind == "extra-cell":
        return "cellule en trop"
    return f"écart au schéma ({kind})"
