"""What the data officer reviews: each record's fields under French names, why one needs a look
and how urgently. Written as review.csv, as review.html (one offline page where the review is
done and the corrections exported) and as the first sheet of conventions.xlsx."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from pipeline.dataset.tables import TABLES, main_parties, record_source, schema
from pipeline.dataset.write import Spool, write_atomic, write_csv

COLUMNS = [
    "fichier_source",
    "champ",
    "valeur",
    "priorite",
    "raison",
    "confiance",
    "extrait",
    "page",
    "cle",
    "regle",
]
# Where a record comes from, not what was read in it.
PLACE = {"rang_dans_fichier", "page_debut", "page_fin", "caractere_debut", "caractere_fin"}
SKIPPED = {"id", "fichier_source", "evidence", "warnings", "warning_codes", "pages", *PLACE}
TEMPLATE = Path(__file__).resolve().parent / "templates" / "review.html"
SNIPPET_CHARS = 200
# Conventions on one review page: past it, the page is cut into parts that open in seconds.
PART_SIZE = 500
HIGH, MEDIUM, LOW = 1, 2, 3
PRIORITIES = {HIGH: "1 - haute", MEDIUM: "2 - moyenne", LOW: "3 - basse"}
CHECK_WARNING = "verification_echouee"  # such a warning is already a reason of the fields it names

# The French name of each part of a dotted key; a part not listed is shown as written.
LABELS = {
    "intitule": "intitulé",
    "objet": "objet",
    "type_delegation": "type de délégation",
    "nature": "nature",
    "nor": "NOR",
    "delegant": "délégant",
    "delegataire": "délégataire",
    "nom": "nom",
    "sigle": "sigle",
    "adresse": "adresse",
    "representant": "représentant",
    "fonction": "fonction",
    "role": "rôle",
    "produits": "produits",
    "programme": "programme",
    "programme_libelle": "libellé du programme",
    "budget_operationnel": "budget opérationnel (BOP)",
    "centre_financier": "centre financier",
    "centre_cout": "centre de coût",
    "domaine_fonctionnel": "domaine fonctionnel",
    "activite": "activité",
    "axe_ministeriel": "axe ministériel",
    "montant_total": "montant total",
    "date_signature": "date de signature",
    "lieu_signature": "lieu de signature",
    "prise_effet": "prise d'effet",
    "duree": "durée",
    "date_fin": "date de fin",
    "preavis": "préavis",
    "reconduction_tacite": "tacite reconduction",
    "publication": "publication",
    "journal": "journal",
    "numero": "numéro",
    "date_publication": "date de publication",
    "convention_modifiee": "convention modifiée",
    "reference": "référence",
    "date": "date",
    "montants": "montants",
    "annee": "année",
    "type_credit": "type de crédit",
    "montant": "montant",
    "produit": "produit",
    "estimation": "estimation",
    "signataires": "signataires",
    "partie": "partie",
    "par_delegation": "par délégation",
    "parties": "parties",
}
ITEMS = {"montants": "montant", "signataires": "signataire", "produits": "produit", "parties": "partie"}
VALUES = {"delegant": "délégant", "delegataire": "délégataire"}  # coded values, in words
DURATION = re.compile(r"P(\d+)([YMWD])")
UNITS = {"Y": ("an", "ans"), "M": ("mois", "mois"), "W": ("semaine", "semaines"), "D": ("jour", "jours")}
AMOUNTS = {"montant", "montant_total"}


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # dotted: "delegant.sigle", "montants.1" (a whole line), "signataires.0"
    value: object
    evidence: dict | None
    reasons: list[str]
    priority: int = 0  # HIGH, MEDIUM or LOW when there are reasons
    fixes: tuple[tuple[str, dict], ...] = ()  # corrections of a line's parts, by dotted key

    @property
    def doubtful(self) -> bool:
        return bool(self.reasons)

    @property
    def corrected(self) -> bool:
        return bool(self.fixes) or (bool(self.evidence) and self.evidence.get("source") == "correction")

    @property
    def verified(self) -> bool:
        """Corrected with the value that was already there: the officer confirmed it."""
        if self.fixes:
            return all(entry.get("previous") == part_of(self.value, key) for key, entry in self.fixes)
        return self.corrected and self.evidence.get("previous") == self.value


def part_of(item: object, key: str) -> object:
    return item.get(key.rsplit(".", 1)[-1]) if isinstance(item, dict) else None


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
    """Every field of the record, with why and how urgently it needs a human, if it does. The
    parts of a line (amount, signatory) are shown with their line."""
    evidence = {dotted(key): entry for key, entry in record["evidence"].items()}
    values = dict(walk(record))
    lines = {key for key, value in values.items() if isinstance(value, dict)}
    parts: dict[str, list] = {}
    for key, entry in evidence.items():
        line = line_of(key)
        if line in lines and line != key:
            parts.setdefault(line, []).append((key, entry))
    keys = list(dict.fromkeys([*values, *evidence]))
    for name in settings["essential"]:
        if name not in keys and not any(key.startswith(f"{name}.") for key in keys):
            keys.append(name)
    found = []
    repeated = {f"parties.{index}" for index in main_parties(record)}  # reviewed as delegant, delegataire
    for key in keys:
        if line_of(key) != key and line_of(key) in lines or key in repeated:
            continue
        value = values[key] if key in values else value_at(record, key)
        entry = evidence.get(key)
        fixed = tuple(part for part in parts.get(key, ()) if part[1].get("source") == "correction")
        if entry is None and key in parts:  # a line known by its parts (a party): the weakest speaks
            entry = min((part for _, part in parts[key]), key=lambda part: part["confidence"])
        reasons, priority = reasons_for(key, value, entry, settings, bool(fixed))
        found.append(Field(key, value, entry, reasons, priority, fixed))
    return found


def line_of(key: str) -> str:
    """The line a dotted key belongs to: "parties.0" for "parties.0.representant.nom"."""
    parts = key.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 and parts[1].isdigit() else key


def reasons_for(
    key: str, value: object, entry: dict | None, settings: dict, fixed: bool = False
) -> tuple[list[str], int]:
    if fixed or (entry and entry.get("source") == "correction"):
        return [], 0
    if key in settings["essential"] and value in (None, "", []):
        return [settings["reasons"]["missing"]], HIGH
    if not entry:
        return [], 0
    checks = [settings["checks"][name] for name in entry.get("checks", [])]
    if checks:
        return checks, HIGH
    if entry["confidence"] < settings["threshold"]:
        return [settings["reasons"]["low_confidence"]], MEDIUM
    return [], 0


@cache
def label(key: str) -> str:
    """The field's name as the officer reads it: "delegant.representant.nom" is "Délégant ·
    représentant · nom", "montants.1.montant" is "Montant n° 2 · montant"."""
    words: list[str] = []
    previous = ""
    for part in key.split("."):
        if part.isdigit() and words:
            words[-1] = f"{ITEMS.get(previous, words[-1])} n° {int(part) + 1}"
        else:
            words.append(LABELS.get(part, part.replace("_", " ")))
        previous = part
    text = " · ".join(words)
    return text[:1].upper() + text[1:]


@cache
def column_of(key: str) -> tuple[str, str]:
    """The table and column that show a dotted key: "montants.1.montant" is montants' montant,
    "delegant.sigle" conventions' delegant_sigle, "produits.0" conventions' produits."""
    parts = key.split(".")
    if parts[0] in TABLES and parts[0] != "conventions" and len(parts) > 2 and parts[1].isdigit():
        return parts[0], "_".join(parts[2:])
    return "conventions", "_".join(part for part in parts if not part.isdigit())


@cache
def spec(table: str, column: str) -> dict | None:
    """The column's Table Schema field."""
    if table not in TABLES:
        return None
    return next((field for field in schema(table)["fields"] if field["name"] == column), None)


def display(key: str, value: object) -> str:
    """The value as a French reader writes it: 23/11/2020, 100 000 €, 6 mois, oui; a line as
    its parts; what the corrections file accepts back."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return " | ".join(display(f"{key}.{index}", item) for index, item in enumerate(value))
    if isinstance(value, dict):
        parts = [line_part(f"{key}.{name}", part) for name, part in value.items()]
        return " · ".join(part for part in parts if part)
    table, column = column_of(key)
    field = spec(table, column) or {}
    if isinstance(value, int | float):
        return euros(value) if column in AMOUNTS else shown_number(value)
    text = str(value)
    if field.get("type") == "date" or (column == "prise_effet" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)):
        return french_date(text)
    if DURATION.fullmatch(text):
        return duration_words(text)
    if text in field.get("constraints", {}).get("enum", ()):
        return VALUES.get(text, text)
    return text


def line_part(key: str, value: object) -> str:
    """A part of a line as the line shows it: a true flag by its name, a false one not at all."""
    if isinstance(value, bool):
        return LABELS.get(key.rsplit(".", 1)[-1], "") if value else ""
    return display(key, value)


def euros(value: float) -> str:
    digits = f"{value:,.2f}" if value % 1 else f"{value:,.0f}"
    return digits.replace(",", "\u00a0").replace(".", ",") + "\u00a0€"


def shown_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")


def french_date(text: str) -> str:
    try:
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    except ValueError:
        return text


def duration_words(text: str) -> str:
    count, unit = DURATION.fullmatch(text).groups()
    one, many = UNITS[unit]
    return f"{int(count)} {one if int(count) < 2 else many}"


def confidence_words(field: Field, threshold: float) -> str:
    if field.corrected:
        return "vérifié" if field.verified else "corrigé"
    if not field.evidence:
        return "absent" if field.value in (None, "", []) else ""
    confidence = field.evidence["confidence"]
    return "élevée" if confidence >= 0.9 else "moyenne" if confidence >= threshold else "faible"


def review_rows(reviewed: list[tuple[dict, list[Field]]], settings: dict) -> list[dict]:
    """What needs a look, most urgent first: fields, then document warnings."""
    rows = []
    for record, fields in reviewed:
        for field in fields:
            if field.doubtful:
                rows.append(review_row(record, field, settings))
        for warning in document_warnings(record):
            rows.append(
                {
                    "fichier_source": record_source(record),
                    "priorite": PRIORITIES[LOW],
                    "raison": warning,
                }
            )
    return sorted(rows, key=lambda row: (row["priorite"], row.get("score", 1.0)))


def review_row(record: dict, field: Field, settings: dict) -> dict:
    entry = field.evidence or {}
    return {
        "fichier_source": record_source(record),
        "champ": label(field.key),
        "valeur": display(field.key, field.value),
        "priorite": PRIORITIES[field.priority],
        "raison": " ; ".join(field.reasons),
        "confiance": confidence_words(field, settings["threshold"]),
        "extrait": " ".join((entry.get("text") or "").split())[:SNIPPET_CHARS],
        "page": entry.get("page"),
        "cle": field.key,
        "regle": entry.get("rule"),
        "score": entry.get("confidence", 0.0),
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


def document_warnings(record: dict) -> list[str]:
    """The texts of a record's warnings, but those of failed checks: these are reasons of the
    fields they name."""
    pairs = zip(record["warnings"], record["warning_codes"], strict=True)
    return [text for text, code in pairs if code["code"] != CHECK_WARNING]


def warning_kind(warning: str) -> str:
    """A warning without what it quotes or counts: warnings of one kind filter together."""
    return re.sub(r"\d+", "N", re.sub(r"« [^»]* »", "« … »", warning.split(" : ")[0]))


def page_data(
    reviewed: list[tuple[dict, list[Field]]],
    contexts: dict[str, list],
    settings: dict,
    corrections: list,
    notices: list[str],
    crops: dict,
) -> dict:
    conventions = []
    for record, fields in reviewed:
        conventions.append(
            {
                "id": record["id"],
                "file": record_source(record),
                "title": " → ".join(party_name(record, role) for role in ("delegant", "delegataire")),
                "warnings": [[warning_kind(w), w] for w in document_warnings(record)],
                "pages": [[p["number"], p["method"], p["ocr_confidence"]] for p in record["pages"]],
                "excerpts": contexts.get(record["id"], []),
                "crops": {dotted(key): crop for key, crop in crops.get(record["id"], {}).items()},
                "fields": [field_data(field, settings) for field in fields],
            }
        )
    rows = [[c.source, c.field, c.value] for c in corrections if not c.problem]
    data = {"conventions": conventions, "corrections": rows, "notices": notices}
    # What the page keeps in the browser belongs to this set of records only.
    data["stamp"] = hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:16]
    return data


def part_name(number: int) -> str:
    """review.html, then review-2.html, review-3.html… for the parts after the first."""
    return "review.html" if number == 1 else f"review-{number}.html"


def party_name(record: dict, role: str) -> str:
    party = record.get(role) or {}
    return party.get("sigle") or party.get("nom") or "?"


def field_data(field: Field, settings: dict) -> dict:
    entry = field.evidence or {}
    data = {
        "key": field.key,
        "label": label(field.key),
        "value": display(field.key, field.value),
        "confidence": entry.get("confidence"),
        "words": confidence_words(field, settings["threshold"]),
        "reasons": field.reasons,
        "priority": field.priority,
        "rule": entry.get("rule"),
        "start": entry.get("start"),
        "end": entry.get("end"),
        "page": entry.get("page"),
    }
    if isinstance(field.value, dict):
        data["parts"] = [[f"{field.key}.{name}", label(f"{field.key}.{name}")] for name in field.value]
        data["values"] = [display(f"{field.key}.{name}", part) for name, part in field.value.items()]
    if field.corrected:
        data["corrected"] = "vérifié" if field.verified else "corrigé"
        data["previous"] = previous_shown(field)
        data["by"] = ", ".join(
            e.get("rule", "") for e in [entry] + [e for _, e in field.fixes] if e.get("rule")
        )
    return data


def previous_shown(field: Field) -> str:
    if field.fixes:
        return " · ".join(
            f"{label(key)} : {display(key, entry.get('previous'))}" for key, entry in field.fixes
        )
    return display(field.key, field.evidence.get("previous"))


def embedded(data: dict) -> str:
    """JSON that no text can end the <script> element it sits in, nor turn into markup: every
    <, > and & is escaped, and the line separators some parsers take for ends of line."""
    text = json.dumps(data, ensure_ascii=False)
    for char, escape in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


def review_html(data: dict) -> str:
    return TEMPLATE.read_text(encoding="utf-8").replace("/*DATA*/{}", embedded(data))


def reviewed_fields(records: list[dict], settings: dict) -> list[tuple[dict, list[Field]]]:
    """Each record with its fields, as review.csv, review.html and the workbook show them."""
    return [(record, fields_of(record, settings)) for record in records]


def write_review(
    entries: Collection[tuple[dict, list[Field], list, dict]],
    settings: dict,
    outdir: Path,
    corrections: list | None = None,
    notices: list[str] | None = None,
    stamp: str = "",
) -> list[Path]:
    """review.csv and review.html from each record with its fields (fields_of), the text
    around its evidence and its crops (the scanned page around each value read by OCR, by
    evidence key), read once, in order. Past PART_SIZE conventions the page is cut into parts
    (review-2.html…), each light enough to open in seconds, which link to each other and share
    what the officer decides (`stamp`: one for the whole run). `corrections` are the rows read
    this run, which the page's export keeps ahead of the new ones; `notices` say which could
    not be applied."""
    total = max(1, math.ceil(len(entries) / PART_SIZE))
    parts = [[part_name(n), part_label(n, len(entries))] for n in range(1, total + 1)]
    written, chunk = [], []
    rows = Spool(outdir)  # on disk, most urgent first: a large run has hundreds of thousands

    def flush() -> None:
        reviewed = [(record, fields) for record, fields, _, _ in chunk]
        contexts = {record["id"]: context for record, _, context, _ in chunk}
        crops = {record["id"]: crop for record, _, _, crop in chunk}
        data = page_data(reviewed, contexts, settings, corrections or [], notices or [], crops)
        if total > 1:
            data.update(stamp=stamp or data["stamp"], parts=parts, part=len(written))
        written.append(outdir / part_name(len(written) + 1))
        write_atomic(written[-1], review_html(data))
        chunk.clear()

    try:
        for entry in entries:
            record, fields = entry[:2]
            for row in review_rows([(record, fields)], settings):
                rows.add(row, (row["priorite"], row.get("score", 1.0), len(rows)))
            chunk.append(entry)
            if len(chunk) == PART_SIZE:
                flush()
        if chunk or not written:
            flush()
        csv_path = outdir / "review.csv"
        write_csv(csv_path, rows, COLUMNS, for_spreadsheets=True)
    finally:
        rows.remove()
    return [csv_path, *written]


def part_label(number: int, count: int) -> str:
    first = (number - 1) * PART_SIZE + 1
    return f"conventions {first} à {min(count, number * PART_SIZE)}"
