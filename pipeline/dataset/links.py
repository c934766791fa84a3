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


def drop_duplicates(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """The records with each convention once (the reading with most values), and a line for
    each reading left out: its file, the record kept, and why."""
    kept: list[dict] = []
    lines = []
    for record in records:
        index, reason = next(
            ((i, why) for i, other in enumerate(kept) if (why := duplicate_reason(record, other))),
            (None, None),
        )
        if index is None:
            kept.append(record)
            continue
        if filled(record) > filled(kept[index]):
            kept[index], record = record, kept[index]
        lines.append(duplicate_line(record, kept[index], reason))
    return kept, lines


def filled(record: dict) -> int:
    return sum(1 for key, value in record.items() if key != "evidence" and value not in (None, "", [], {}))


def duplicate_line(left_out: dict, kept: dict, reason: str) -> dict:
    return {
        "fichier": left_out["fichier_source"],
        "rang_dans_fichier": left_out.get("rang_dans_fichier", 1),
        "id": left_out["id"],
        "id_garde": kept["id"],
        "fichier_garde": kept["fichier_source"],
        "motif": reason,
    }


def link_avenants(records: list[dict]) -> None:
    """An avenant's convention_modifiee gets the id of the convention it modifies when the
    dataset holds it: the convention of that date between the same parties."""
    for record in records:
        modified = record.get("convention_modifiee")
        if not modified:
            continue
        target = (
            next((other for other in records if modifies(record, other)), None)
            if modified.get("date")
            else None
        )
        modified["id"] = target["id"] if target else None
        if target:
            source = record["evidence"].get("convention_modifiee.date") or {}
            record["evidence"]["convention_modifiee.id"] = {
                **source,
                "confidence": min(source.get("confidence", 0.9), 0.9),
                "rule": "links.convention_modifiee",
            }


def modifies(avenant: dict, other: dict) -> bool:
    if other is avenant or other.get("nature") != "convention":
        return False
    if other.get("date_signature") != avenant["convention_modifiee"]["date"]:
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
