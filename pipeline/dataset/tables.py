"""The dataset's tables: records flattened into rows that follow the Table Schemas of schema/."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

# The schemas, in schema.data.gouv.fr's layout (one folder per table), beside the code as patterns/ is.
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"
TABLES = ("conventions", "montants", "signataires", "parties")
JOIN = " | "
ROLES = ("delegant", "delegataire")


@cache
def schema(table: str) -> dict:
    return json.loads((SCHEMA_DIR / table / "schema.json").read_text(encoding="utf-8"))


def columns(table: str) -> list[str]:
    return [field["name"] for field in schema(table)["fields"]]


def convention_id(text: str) -> str:
    """From the text's words only, so that spacing and line breaks do not change it."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def record_source(record: dict) -> str:
    """How the review and the corrections name a record: its file, and after a "#" its rank
    among the file's conventions when it is not the first ("bulletin-12.pdf#2")."""
    rank = record.get("rang_dans_fichier") or 1
    return record["fichier_source"] if rank == 1 else f"{record['fichier_source']}#{rank}"


def flatten(record: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}_"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def convention_row(record: dict) -> dict:
    flat = flatten({k: v for k, v in record.items() if k not in ("evidence", "pages")})
    flat["produits"] = JOIN.join(record["produits"])
    flat["avertissements"] = JOIN.join(record["warnings"])
    return {name: flat.get(name) for name in columns("conventions")}


def child_rows(record: dict, table: str) -> list[dict]:
    keys = {"convention_id": record["id"], "fichier_source": record["fichier_source"]}
    return [{name: {**keys, **item}.get(name) for name in columns(table)} for item in record[table]]


def parties(record: dict) -> list[dict]:
    """Every party in text order; a record that lists none still has its first délégant and
    first délégataire."""
    if record.get("parties"):
        return record["parties"]
    first = [{"role": role, **record[role]} for role in ROLES if isinstance(record.get(role), dict)]
    return [party for party in first if any(flatten(party | {"role": None}).values())]


def main_parties(record: dict) -> dict[int, str]:
    """The items of `parties` that `delegant` and `delegataire` repeat, by index, with their role."""
    found: dict[int, str] = {}
    for index, party in enumerate(record.get("parties") or []):
        role = party.get("role")
        if (
            role in ROLES
            and role not in found.values()
            and party | {"role": None} == {"role": None, **record[role]}
        ):
            found[index] = role
    return found


def party_rows(record: dict) -> list[dict]:
    keys = {"convention_id": record["id"], "fichier_source": record["fichier_source"]}
    rows = [{**keys, "rang": rank, **flatten(party)} for rank, party in enumerate(parties(record), start=1)]
    return [{name: row.get(name) for name in columns("parties")} for row in rows]


def tables(records: list[dict]) -> dict[str, list[dict]]:
    return {
        "conventions": [convention_row(r) for r in records],
        "montants": [row for r in records for row in child_rows(r, "montants")],
        "signataires": [row for r in records for row in child_rows(r, "signataires")],
        "parties": [row for r in records for row in party_rows(r)],
    }
