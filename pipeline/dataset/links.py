"""Records read from several files tied together: the same convention read twice (a scan and its
text, two bulletins) kept once, and an avenant tied to the convention it modifies."""

from __future__ import annotations

import unicodedata

DUPLICATE_COLUMNS = ["fichier", "rang_dans_fichier", "id", "id_garde", "fichier_garde", "motif"]
SAME_TEXT = "même texte"


def duplicate_reason(record: dict, other: dict) -> str | None:
    """Why two records are the same convention, in French; None when they are not (two NORs
    that differ are two acts)."""
    if record["id"] == other["id"]:
        return SAME_TEXT
    if record.get("nor") and other.get("nor"):
        return f"même NOR {record['nor']}" if record["nor"] == other["nor"] else None
    keys = [signature_key(record), signature_key(other)]
    if keys[0] and keys[0] == keys[1]:
        return "mêmes parties, même date de signature et mêmes montants"
    return None


def signature_key(record: dict) -> tuple | None:
    """The parties, the date of signature and the amounts, when all are known."""
    names = [folded((record.get(role) or {}).get("nom")) for role in ("delegant", "delegataire")]
    lines = record.get("montants") or []
    amounts = sorted(repr((m.get("annee"), m.get("type_credit"), m.get("montant"))) for m in lines)
    amount = record.get("montant_total")
    if not all(names) or not record.get("date_signature") or not (amounts or amount):
        return None
    return (*names, record["date_signature"], amount, tuple(amounts), record.get("nature"))


def folded(text: object) -> str:
    if not text:
        return ""
    plain = unicodedata.normalize("NFKD", str(text))
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).casefold().split())


class LinkKeys:
    """What tying records together needs of each, kept small so that a run of any size holds
    it: filled by a first pass over the records, settled, then asked of each record as a
    second pass writes it."""

    def __init__(self) -> None:
        self.lights: list[dict] = []
        self.by_file: list[tuple[str, list[dict]]] = []
        self.left_out: set[tuple] = set()
        self.targets: dict[tuple, str | None] = {}

    def add(self, path: str, records: list[dict]) -> None:
        lights = [light(record) for record in records]
        self.lights += lights
        self.by_file.append((path, lights))

    def settle(self) -> tuple[list[dict], dict[str, dict]]:
        """The lines of doublons.csv, and by file an error line for each file that is a copy of
        another (the same text): it gives no record. Another reading of a convention (its scan,
        another bulletin) is no error: it is listed in doublons.csv only."""
        kept, lines = drop_duplicates(self.lights)
        kept_ids = {id(record) for record in kept}
        self.left_out = {place(record) for record in self.lights if id(record) not in kept_ids}
        self.targets = avenant_targets(kept)
        same = {line["id"]: line for line in lines if line["motif"] == SAME_TEXT}
        copies = {}
        for path, lights in self.by_file:
            if lights and not any(id(r) in kept_ids for r in lights) and lights[0]["id"] in same:
                message = f"même convention que {same[lights[0]['id']]['fichier_garde']}"
                copies[path] = {"fichier": path, "type_erreur": "doublon", "message": message}
        self.lights, self.by_file = [], []
        return lines, copies

    def kept(self, record: dict) -> bool:
        return place(record) not in self.left_out

    def tie(self, record: dict) -> None:
        """An avenant's convention_modifiee gets the id of the convention it modifies when the
        dataset holds it."""
        modified = record.get("convention_modifiee")
        if not modified:
            return
        modified["id"] = self.targets.get(place(record))
        if modified["id"]:
            source = record["evidence"].get("convention_modifiee.date") or {}
            record["evidence"]["convention_modifiee.id"] = {
                **source,
                "confidence": min(source.get("confidence", 0.9), 0.9),
                "rule": "links.convention_modifiee",
            }


# What telling readings apart and tying avenants reads of a record; of its other keys, only
# whether they hold a value.
LINK_KEYS = {
    "id",
    "nor",
    "delegant",
    "delegataire",
    "montants",
    "montant_total",
    "date_signature",
    "nature",
    "convention_modifiee",
    "fichier_source",
    "rang_dans_fichier",
}
EMPTY = (None, "", [], {})


def light(record: dict) -> dict:
    return {
        key: value if key in LINK_KEYS else (None if value in EMPTY else 1)
        for key, value in record.items()
        if key != "evidence"
    }


def place(record: dict) -> tuple:
    return record["fichier_source"], record.get("rang_dans_fichier") or 1


def drop_duplicates(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """The records with each convention once (the reading with most values), and a line for
    each reading left out: its file, the record kept, and why. Readings are found by their
    keys (text, NOR, parties with date and amounts), not by comparing every pair."""
    kept: list[dict] = []
    index: dict[tuple, int] = {}
    lines = []
    for record in records:
        keys = duplicate_keys(record)
        at = next((index[k] for k in keys if k in index and duplicate_reason(record, kept[index[k]])), None)
        if at is None:
            index.update({key: len(kept) for key in keys if key not in index})
            kept.append(record)
            continue
        reason = duplicate_reason(record, kept[at])
        if filled(record) > filled(kept[at]):
            kept[at], record = record, kept[at]
            index.update({key: at for key in duplicate_keys(kept[at]) if key not in index})
        lines.append(duplicate_line(record, kept[at], reason))
    return kept, lines


def duplicate_keys(record: dict) -> list[tuple]:
    keys = [("texte", record["id"])]
    if record.get("nor"):
        keys.append(("nor", record["nor"]))
    if key := signature_key(record):
        keys.append(("parties", key))
    return keys


def filled(record: dict) -> int:
    return sum(1 for key, value in record.items() if key != "evidence" and value not in EMPTY)


def duplicate_line(left_out: dict, kept: dict, reason: str) -> dict:
    return {
        "fichier": left_out["fichier_source"],
        "rang_dans_fichier": left_out.get("rang_dans_fichier", 1),
        "id": left_out["id"],
        "id_garde": kept["id"],
        "fichier_garde": kept["fichier_source"],
        "motif": reason,
    }


def avenant_targets(records: list[dict]) -> dict[tuple, str | None]:
    """For each avenant, the id of the convention it modifies when the records hold it: the
    convention of that date between the same parties."""
    by_date: dict[str, list[dict]] = {}
    for record in records:
        if record.get("nature") == "convention" and record.get("date_signature"):
            by_date.setdefault(record["date_signature"], []).append(record)
    targets = {}
    for record in records:
        modified = record.get("convention_modifiee")
        if not modified:
            continue
        candidates = by_date.get(modified.get("date") or "", [])
        target = next((other for other in candidates if modifies(record, other)), None)
        targets[place(record)] = target["id"] if target else None
    return targets


def modifies(avenant: dict, other: dict) -> bool:
    if other is avenant:
        return False
    names = {
        folded((avenant.get(role) or {}).get(part))
        for role in ("delegant", "delegataire")
        for part in ("nom", "sigle")
    }
    return any(
        folded((other.get(role) or {}).get(part)) in names - {""}
        for role in ("delegant", "delegataire")
        for part in ("nom", "sigle")
    )
