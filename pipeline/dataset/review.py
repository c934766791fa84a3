"""What the data officer reviews: the doubtful fields of each record, as review.csv, as a
self-contained review.html, and highlighted in conventions.xlsx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.dataset.write import csv_text, write_atomic

COLUMNS = ["fichier_source", "champ", "valeur", "confiance", "raison", "extrait", "page"]
SKIPPED = {"id", "fichier_source", "evidence", "warnings", "pages"}
TEMPLATE = Path(__file__).resolve().parent / "templates" / "review.html"
SNIPPET_CHARS = 200


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # dotted: "delegant.sigle", "montants.1", "montants.1.montant"
    value: object
    evidence: dict | None
    reasons: list[str]

    @property
    def doubtful(self) -> bool:
        return bool(self.reasons)

    @property
    def corrected(self) -> bool:
        return bool(self.evidence) and self.evidence.get("source") == "correction"


def dotted(evidence_key: str) -> str:
    return evidence_key.replace("[", ".").replace("]", "")


def walk(node: object, prefix: str = "") -> Iterator[tuple[str, object]]:
    """Each value of a record, by dotted key; a list item is one value."""
    if isinstance(node, dict):
        for key, value in node.items():
            if prefix or key not in SKIPPED:
                yield from walk(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield f"{prefix}.{index}", item
    else:
        yield prefix, node


def value_at(record: dict, key: str) -> object:
    node: object = record
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def fields_of(record: dict, settings: dict) -> list[Field]:
    """Every field of the record, with why it needs a human, if it does."""
    evidence = {dotted(key): entry for key, entry in record["evidence"].items()}
    values = dict(walk(record))
    keys = list(dict.fromkeys([*values, *evidence]))
    for name in settings["essential"]:
        if name not in keys and not any(key.startswith(f"{name}.") for key in keys):
            keys.append(name)
    found = []
    for key in keys:
        value = values[key] if key in values else value_at(record, key)
        entry = evidence.get(key)
        found.append(Field(key, value, entry, reasons_for(key, value, entry, settings)))
    return found


def reasons_for(key: str, value: object, entry: dict | None, settings: dict) -> list[str]:
    if entry and entry.get("source") == "correction":
        return []
    if key in settings["essential"] and value in (None, "", []):
        return ["not found in the text"]
    if not entry:
        return []
    reasons = [settings["checks"][name] for name in entry.get("checks", [])]
    if not reasons and entry["confidence"] < settings["threshold"]:
        reasons.append(f"low confidence ({entry['rule']})")
    return reasons


def shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "; ".join(f"{k}={shown(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return " | ".join(shown(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def review_rows(reviewed: list[tuple[dict, list[Field]]]) -> list[dict]:
    rows = []
    for record, fields in reviewed:
        for field in fields:
            if field.doubtful:
                rows.append(review_row(record, field))
        for warning in record["warnings"]:
            if not warning.startswith("vérification échouée :"):
                rows.append({"fichier_source": record["fichier_source"], "champ": "", "raison": warning})
    return rows


def review_row(record: dict, field: Field) -> dict:
    entry = field.evidence or {}
    return {
        "fichier_source": record["fichier_source"],
        "champ": field.key,
        "valeur": shown(field.value),
        "confiance": entry.get("confidence", 0.0),
        "raison": "; ".join(field.reasons),
        "extrait": " ".join((entry.get("text") or "").split())[:SNIPPET_CHARS],
        "page": entry.get("page"),
    }


def excerpts(text: str, spans: list[tuple[int, int]], context: int) -> list[list]:
    """The parts of a text around its evidence spans, merged where they overlap:
    [[start offset, text], …], enough for review.html to show each span in its context."""
    windows: list[list[int]] = []
    for start, end in sorted(spans):
        low, high = max(0, start - context), min(len(text), end + context)
        if windows and low <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], high)
        else:
            windows.append([low, high])
    return [[low, text[low:high]] for low, high in windows]


def page_data(reviewed: list[tuple[dict, list[Field]]], contexts: dict[str, list], crops: dict) -> list[dict]:
    conventions = []
    for record, fields in reviewed:
        conventions.append(
            {
                "id": record["id"],
                "file": record["fichier_source"],
                "title": " → ".join(party_name(record, role) for role in ("delegant", "delegataire")),
                "warnings": record["warnings"],
                "pages": [[p["number"], p["method"], p["ocr_confidence"]] for p in record["pages"]],
                "excerpts": contexts.get(record["id"], []),
                "crops": {dotted(key): crop for key, crop in crops.get(record["id"], {}).items()},
                "fields": [field_data(field) for field in fields],
            }
        )
    return conventions


def party_name(record: dict, role: str) -> str:
    party = record.get(role) or {}
    return party.get("sigle") or party.get("nom") or "?"


def field_data(field: Field) -> dict:
    entry = field.evidence or {}
    return {
        "key": field.key,
        "value": shown(field.value),
        "confidence": entry.get("confidence"),
        "reasons": field.reasons,
        "rule": entry.get("rule"),
        "start": entry.get("start"),
        "end": entry.get("end"),
        "page": entry.get("page"),
        "text": entry.get("text") if field.corrected else None,
        "corrected": field.corrected,
        "previous": shown(entry.get("previous")) if field.corrected else None,
    }


def review_html(reviewed: list[tuple[dict, list[Field]]], contexts: dict[str, list], crops: dict) -> str:
    data = json.dumps(page_data(reviewed, contexts, crops), ensure_ascii=False)
    # Inside <script>, "</" could close the element: written "<\/" it reads the same in JSON.
    return TEMPLATE.read_text(encoding="utf-8").replace("/*DATA*/[]", data.replace("</", "<\\/"))


def write_review(
    records: list[dict], contexts: dict[str, list], settings: dict, outdir: Path, crops: dict | None = None
) -> list[Path]:
    csv_path, html_path = outdir / "review.csv", outdir / "review.html"
    reviewed = [(record, fields_of(record, settings)) for record in records]
    write_atomic(csv_path, csv_text(review_rows(reviewed), COLUMNS))
    write_atomic(html_path, review_html(reviewed, contexts, crops or {}))
    return [csv_path, html_path]
