"""The data officer's corrections: a corrections.csv (fichier_source,champ,valeur) whose values
replace what was extracted, run after run. The file is only ever read.

A field is named as review.html shows it ("Date de signature", "Montant n° 2 · montant"), as a
dotted key ("montants.1.montant") or as a column of conventions.csv ("delegant_sigle"); a value
as a French reader writes it (31/07/2021, 25 000 €, 6 mois, oui). Each row is applied whole or
not at all, and each row not applied is reported with its line number."""

from __future__ import annotations

import codecs
import copy
import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.dataset.review import PLACE, column_of, dotted, label, spec, walk
from pipeline.dataset.tables import TABLES, main_parties, record_source, schema
from pipeline.dataset.write import FORMULA_STARTS

COLUMNS = ["fichier_source", "champ", "valeur"]
FILE_NAME = "corrections.csv"
TRUE, FALSE = {"true", "vrai", "oui", "o", "1"}, {"false", "faux", "non", "n", "0"}
# What identifies a record, and where it lies in its file, is not corrected.
FIXED = {"id", "fichier_source", *PLACE}
PRODUCT_SEPARATORS = re.compile(r"\s*[;|]\s*")
DELIMITERS = (",", ";", "\t")  # French spreadsheets save CSV with semicolons
# What a French spreadsheet on Windows saves when it is not told UTF-8: the guess is kept to it,
# since on a few lines any single-byte encoding reads, and most read wrong.
LEGACY_ENCODINGS = ["cp1252"]
# "montants.-1.montant": a rank counted from the end, which no correction may use.
NEGATIVE_RANK = re.compile(r"(^|[\s._])-\s*\d")
DECIMAL = re.compile(r"-?\d+(\.\d+)?")
DURATION_WORDS = re.compile(r"(\d+)\s*(ans?|années?|mois|semaines?|jours?)", re.IGNORECASE)
DURATION_UNITS = {"a": "Y", "m": "M", "s": "W", "j": "D"}


class CorrectionError(ValueError):
    """A corrections file that cannot be read at all: none of it is applied."""


@dataclass(frozen=True, slots=True)
class Correction:
    source: str  # fichier_source of the record it fixes
    field: str  # as written: "Délégant · sigle", "delegant.sigle", "montants.1.montant"
    value: str  # as written; empty means "no value"
    where: str  # "corrections.csv, ligne 3"
    problem: str | None = None  # why the row cannot be read, when it cannot


def find_corrections(paths: list[Path], given: Path | None) -> list[Path]:
    """The file given with --corrections, else a corrections.csv at the top of an input folder."""
    if given:
        return [given]
    return [path / FILE_NAME for path in paths if path.is_dir() and (path / FILE_NAME).is_file()]


def read_corrections(path: Path) -> list[Correction]:
    text = decoded(path.read_bytes(), path)
    header, _, body = text.partition("\n")
    delimiter = next((d for d in DELIMITERS if header_of(header, d) == COLUMNS), None)
    if delimiter is None:
        raise CorrectionError(f"{path} : la première ligne doit être {','.join(COLUMNS)}")
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=True)
    found, line = [], 2
    try:
        for row in reader:
            where = f"{path.name}, ligne {line}"
            if any(cell.strip() for cell in row):
                found.append(correction_of(row, where))
            line = reader.line_num + 2
    except csv.Error:
        raise CorrectionError(f"{path}, ligne {line} : guillemet non refermé, rien n'est appliqué") from None
    return found


def header_of(line: str, delimiter: str) -> list[str]:
    return [cell.strip().strip('"') for cell in line.split(delimiter)][:3]


def decoded(raw: bytes, path: Path) -> str:
    """UTF-8 or UTF-16 when the bytes say so, else the legacy encoding they read best in."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    if b"\x00" in raw:
        raise CorrectionError(f"{path} : contenu binaire, pas un fichier CSV")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        guess = from_bytes(raw, cp_isolation=LEGACY_ENCODINGS).best()
        if guess is None:
            raise CorrectionError(
                f"{path} : encodage non reconnu ; enregistrez le fichier en « CSV UTF-8 »"
            ) from None
        return str(guess)


def correction_of(row: list[str], where: str) -> Correction:
    cells = [cell.strip() for cell in row]
    while len(cells) > 3 and not cells[-1]:
        cells.pop()  # the empty cells a spreadsheet adds at the end of a row
    if len(cells) != 3:
        hint = " : une virgule dans une valeur ? mettez-la entre guillemets" if len(cells) > 3 else ""
        return Correction("", "", "", where, f"{len(cells)} colonnes au lieu de 3{hint}")
    source, field, value = cells
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        value = value[1:]  # written defused, for spreadsheets
    if not source or not field:
        return Correction(source, field, value, where, f"{'fichier_source' if not source else 'champ'} vide")
    return Correction(source, field, value, where)


def apply_corrections(records: list[dict], corrections: list[Correction]) -> list[str]:
    """Apply each correction to its record, in the file's order; what could not be applied,
    one line each."""
    routes, problems = routed(corrections, [record["fichier_source"] for record in records])
    for record in records:
        problems += correct(record, routes.pop(record_source(record), []))
    problems += unclaimed(routes)
    return [text for _, text in sorted(problems)]


def routed(corrections: list[Correction], sources: list[str]) -> tuple[dict[str, list], list]:
    """Each correction, with its rank in the file, under the record it names ("fichier" or
    "fichier#rang" for a file's later conventions): its file as written, or by its bare name
    when a single source of the run has it. The corrections
    that name no source, or a name several sources have, as (rank, problem)."""
    known = set(sources)
    by_name: dict[str, list[str]] = {}
    for source in sources:
        by_name.setdefault(source.rsplit("/", 1)[-1], []).append(source)
    routes: dict[str, list] = {}
    problems = []
    for rank, correction in enumerate(corrections):
        if correction.problem:
            problems.append((rank, f"{correction.where} : {correction.problem}"))
            continue
        source, mark, rank_in_file = correction.source.partition("#")
        named = by_name.get(source, []) if source not in known else [source]
        if len(named) > 1:
            listed = ", ".join(f"« {name} »" for name in named)
            message = f"« {source} » désigne plusieurs fichiers ({listed}) : écrire son chemin"
            problems.append((rank, f"{correction.where} : {message}"))
        else:
            record = (named[0] if named else source) + mark + rank_in_file
            routes.setdefault(record, []).append((rank, correction))
    return routes, problems


def correct(record: dict, corrections: list[tuple[int, Correction]]) -> list[tuple[int, str]]:
    """Apply the corrections routed to this record; what could not be, as (rank, problem)."""
    problems = []
    for rank, correction in corrections:
        try:
            mains = main_parties(record)
            apply_one(record, correction, mains)
            for index, role in mains.items():  # the party the délégant (délégataire) repeats
                record["parties"][index] = {"role": role, **copy.deepcopy(record[role])}
        except ValueError as error:
            problems.append((rank, f"{correction.where} : « {correction.field} » non corrigé : {error}"))
    return problems


def unclaimed(routes: dict[str, list]) -> list[tuple[int, str]]:
    """The corrections left for sources that gave no convention."""
    return [
        (rank, f"{correction.where} : aucune convention tirée de « {correction.source} » ici")
        for corrections in routes.values()
        for rank, correction in corrections
    ]


def apply_one(record: dict, correction: Correction, mains: dict[int, str]) -> None:
    key = field_key(record, correction.field)
    parts = key.split(".")
    if parts[0] == "parties" and len(parts) > 2 and int(parts[1]) in mains:
        parts = [mains[int(parts[1])], *parts[2:]]  # corrected where the record's columns read it
        key = ".".join(parts)
    if parts[0] in FIXED:
        raise ValueError(f"{parts[0]} identifie la convention et ne se corrige pas")
    if lines_of(record, parts[0]) is not None:
        if len(parts) == 2:
            remove_line(record, parts[0], int(parts[1]), correction)
            return
        previous = set_in_line(record, parts, correction.value)
    elif parts == ["produits"]:
        previous = record["produits"]
        record["produits"] = [p for p in PRODUCT_SEPARATORS.split(correction.value) if p]
    else:
        previous = set_scalar(record, parts, typed(correction.value, key))
    record["evidence"][evidence_key(parts)] = provenance(correction, previous)


def provenance(correction: Correction, previous: object) -> dict:
    return {
        "source": "correction",
        "text": correction.value,
        "start": None,
        "end": None,
        "page": None,
        "confidence": 1.0,
        "rule": correction.where,
        "previous": previous,
    }


def field_key(record: dict, name: str) -> str:
    """The dotted key a correction names, however it names it."""
    if NEGATIVE_RANK.search(name):
        raise ValueError("numéro de ligne négatif : les lignes se comptent à partir de 0, dans l'ordre")
    key = field_names(record).get(fold(name))
    if key is None:
        raise ValueError("champ inconnu")
    return key


def field_names(record: dict) -> dict[str, str]:
    """Every name a correction may give a field of this record, folded, with its dotted key."""
    keys = ["produits", *FIXED]
    for key, value in walk(record):
        table = key.split(".")[0]
        if lines_of(record, table) is None:
            keys += [] if table == "produits" else [key]
        else:
            keys += [key, *(f"{key}.{part}" for part in line_parts(value))]
    for table in line_tables():
        lines = lines_of(record, table)
        if lines is not None:
            keys += [f"{table}.{len(lines)}.{part}" for part in line_parts(new_line(table, lines))]
    names = {}
    for key in keys:
        names[fold(key)] = key
        names[fold(label(key))] = key
    return names


def line_parts(line: object, prefix: str = "") -> list[str]:
    """The dotted parts of a line: "montant", "representant.nom"."""
    if not isinstance(line, dict):
        return []
    parts = []
    for name, value in line.items():
        key = f"{prefix}{name}"
        parts += line_parts(value, f"{key}.") if isinstance(value, dict) else [key]
    return parts


def new_line(table: str, lines: list) -> dict:
    """An empty line shaped as the table's lines are, or as its columns when it has none."""
    if lines and isinstance(lines[0], dict):
        return emptied(lines[0])
    keys = ("convention_id", "fichier_source", "rang")
    return {field["name"]: None for field in schema(table)["fields"] if field["name"] not in keys}


def emptied(line: dict) -> dict:
    return {name: emptied(value) if isinstance(value, dict) else None for name, value in line.items()}


def fold(name: str) -> str:
    """Case, accents and punctuation aside: "Délégant · sigle", "delegant.sigle" and
    "delegant_sigle" are one name."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return " ".join(re.findall(r"[a-z0-9]+", plain))


def line_tables() -> list[str]:
    return [table for table in TABLES if table != "conventions"]


def lines_of(record: dict, table: str) -> list | None:
    lines = record.get(table) if table in line_tables() else None
    return lines if isinstance(lines, list) else None


def set_scalar(record: dict, parts: list[str], value: object) -> object:
    node = record
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or parts[-1] not in node or isinstance(node[parts[-1]], dict | list):
        raise ValueError("champ inconnu")
    previous, node[parts[-1]] = node[parts[-1]], value
    return previous


def set_in_line(record: dict, parts: list[str], raw: str) -> object:
    """ "montants.1.montant" sets a part of the second amount line; "montants.2.…" on a list of
    two adds a line."""
    table, lines = parts[0], record[parts[0]]
    index, path = int(parts[1]), parts[2:]
    if index > len(lines):
        raise ValueError(f"{len(lines)} ligne(s) de {table} : ajoutez les lignes dans l'ordre")
    value = typed(raw, ".".join(parts))
    line = lines[index] if index < len(lines) else new_line(table, lines)
    if ".".join(path) not in line_parts(line):
        raise ValueError("champ inconnu")
    node = line
    for part in path[:-1]:
        node = node[part]
    previous, node[path[-1]] = node[path[-1]], value
    if index == len(lines):
        lines.append(line)
    return previous


def remove_line(record: dict, table: str, index: int, correction: Correction) -> None:
    """An empty value for a whole line removes it; the evidence of the lines after it moves up
    with them, and the removed line is kept in the evidence of the table."""
    lines = record[table]
    if correction.value:
        raise ValueError(f"seule une valeur vide retire une ligne de {table}")
    removed = lines.pop(index)
    evidence = record["evidence"]
    moved = {}
    for key in list(evidence):
        match = re.fullmatch(rf"{table}\[(\d+)\](.*)", key)
        if match and int(match[1]) >= index:
            entry = evidence.pop(key)
            if int(match[1]) > index:
                moved[f"{table}[{int(match[1]) - 1}]{match[2]}"] = entry
    evidence.update(moved)
    kept = evidence.get(table) or provenance(correction, [])
    kept["previous"] = [*kept["previous"], removed]
    kept["rule"] = ", ".join(dict.fromkeys([*kept["rule"].split(", "), correction.where]))
    evidence[table] = kept


def typed(raw: str, key: str) -> object:
    """The value in the type the Table Schema gives its column; an empty one is null."""
    table, column = column_of(key)
    field = spec(table, column)
    if field is None:
        raise ValueError("champ inconnu")
    if raw == "":
        return None
    kind = field["type"]
    constraints = field.get("constraints", {})
    if kind == "boolean":
        if raw.lower() not in TRUE | FALSE:
            raise ValueError(f"« {raw} » n'est ni oui ni non")
        return raw.lower() in TRUE
    if kind in ("integer", "number", "year"):
        return within(number(raw, kind), raw, constraints)
    if kind == "date":
        parsed = date_of(raw)
        if parsed is None:
            raise ValueError(f"« {raw} » n'est pas une date (31/07/2021 ou 2021-07-31)")
        return parsed.isoformat()
    return coded(raw, field, constraints)


def coded(raw: str, field: dict, constraints: dict) -> str:
    """A text, in the form its column asks: an enum value however it is written, a date or a
    duration in ISO 8601, a code in capitals."""
    if "enum" in constraints:
        chosen = next((value for value in constraints["enum"] if fold(value) == fold(raw)), None)
        if chosen is None:
            raise ValueError(f"« {raw} » n'est pas parmi : {', '.join(constraints['enum'])}")
        return chosen
    if "pattern" not in constraints:
        return raw
    for candidate in (raw, iso_date(raw), iso_duration(raw), raw.upper(), re.sub(r"\s", "", raw).upper()):
        if candidate and re.fullmatch(constraints["pattern"], candidate):
            return candidate
    example = f" (par exemple : {field['example']})" if field.get("example") else ""
    raise ValueError(f"« {raw} » n'a pas la forme attendue{example}")


def date_of(raw: str) -> date | None:
    """A date with its day, month and year ("31/07/2021", "1er juillet 2021"), never a relative
    one ("demain", "6 mois")."""
    from pipeline.extract.values import parse_date  # dateparser loads only for a date to read

    if not re.search(r"\d{4}", raw) and not re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}", raw.strip()):
        return None
    return parse_date(raw)


def iso_date(raw: str) -> str | None:
    parsed = date_of(raw) if re.search(r"\d", raw) else None
    return parsed.isoformat() if parsed else None


def iso_duration(raw: str) -> str | None:
    match = DURATION_WORDS.fullmatch(raw.strip())
    return f"P{int(match[1])}{DURATION_UNITS[match[2][0].lower()]}" if match else None


def number(raw: str, kind: str) -> int | float:
    """ "25 000 €", "1 000,50", "1.000,50", "1000.5": plain decimals only, so that nan, inf
    or 1e999 never reach the dataset."""
    text = re.sub(r"[\s\u00a0\u202f€]|euros?|eur\b", "", raw, flags=re.IGNORECASE)
    if "," in text and "." in text:
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "").replace(",", ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1 or text.count(".") > 1:
        text = text.replace(",", "").replace(".", "")
    if not DECIMAL.fullmatch(text):
        raise ValueError(f"« {raw} » n'est pas un nombre")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"« {raw} » est trop grand")
    if kind != "number" and not value.is_integer():
        raise ValueError(f"« {raw} » n'est pas un nombre entier")
    return int(text.split(".")[0]) if value.is_integer() else value


def within(value: float, raw: str, constraints: dict) -> float:
    if "minimum" in constraints and value < constraints["minimum"]:
        raise ValueError(f"« {raw} » est inférieur au minimum, {constraints['minimum']}")
    if "maximum" in constraints and value > constraints["maximum"]:
        raise ValueError(f"« {raw} » est supérieur au maximum, {constraints['maximum']}")
    return value


def evidence_key(parts: list[str]) -> str:
    if parts[0] in line_tables():
        return f"{parts[0]}[{parts[1]}]" + (f".{'.'.join(parts[2:])}" if len(parts) > 2 else "")
    return ".".join(parts)


def drop_answered(record: dict, settings: dict) -> None:
    """Drop the warnings a correction answers ("date de signature laissée en blanc" once the
    date is corrected or confirmed); each stays in the evidence of the correction."""
    corrected = {
        dotted(key): entry for key, entry in record["evidence"].items() if entry.get("source") == "correction"
    }
    kept, kept_codes = [], []
    for text, code in zip(record["warnings"], record["warning_codes"], strict=True):
        answer = next((entry for key, entry in corrected.items() if answers(key, code, settings)), None)
        if answer is None:
            kept.append(text)
            kept_codes.append(code)
        elif text not in answer.setdefault("answers", []):
            answer["answers"].append(text)
    record["warnings"], record["warning_codes"] = kept, kept_codes


def answers(key: str, warning: dict, settings: dict) -> bool:
    """Whether a correction of the field `key` answers a warning ({code, field, params}), by
    the rule of patterns/review.yaml answered_by for its code."""
    for rule in settings["answered_by"]:
        if warning["code"] in rule["codes"] and warning["params"].get("check") in rule.get("checks", [None]):
            fields = [name.format(field=warning["field"]) for name in rule["fields"]]
            return any(key == name or key.startswith(f"{name}.") for name in fields)
    return False
