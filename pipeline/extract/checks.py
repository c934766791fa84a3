"""Checks across a record's fields: each failed check lowers the confidence of the fields it
involves, names itself in their evidence, and becomes a document warning."""

from __future__ import annotations

from datetime import date

from pipeline.extract.names import fold
from pipeline.model import add_warning, warning


def failed_checks(record: dict, earliest: date, today: date) -> list[tuple[str, list[str]]]:
    """Each failed check's name, with the fields (evidence keys) it casts doubt on."""
    failed = amount_checks(record) + code_checks(record) + date_checks(record, earliest, today)
    return failed + party_checks(record)


def amount_checks(record: dict) -> list[tuple[str, list[str]]]:
    amounts = record.get("montants") or []
    keys = {
        kind: [f"montants[{i}]" for i, a in enumerate(amounts) if a["type_credit"] == kind]
        for kind in ("AE", "CP")
    }
    sums = {kind: sum(a["montant"] for a in amounts if a["type_credit"] == kind) for kind in ("AE", "CP")}
    failed = []
    total = record.get("montant_total")
    if total is not None and keys["AE"] and abs(total - sums["AE"]) > 0.5:
        failed.append(("total_vs_ae", ["montant_total", *keys["AE"]]))
    if keys["AE"] and keys["CP"] and abs(sums["CP"] - sums["AE"]) > 0.5:
        failed.append(("cp_differs_from_ae", ["montant_total", *keys["AE"], *keys["CP"]]))
    return failed


def code_checks(record: dict) -> list[tuple[str, list[str]]]:
    programme = record.get("programme")
    if not programme:
        return []
    prefix = programme.zfill(4)
    fields = {
        "uo_vs_programme": "centre_financier",
        "domain_vs_programme": "domaine_fonctionnel",
        "activity_vs_programme": "activite",
    }
    return [
        (name, [field, "programme"])
        for name, field in fields.items()
        if record.get(field) and not record[field].startswith(prefix)
    ]


def date_checks(record: dict, earliest: date, today: date) -> list[tuple[str, list[str]]]:
    signed = as_date(record.get("date_signature"))
    ends = as_date(record.get("date_fin"))
    failed = []
    if signed and ends and ends < signed:
        failed.append(("end_before_signature", ["date_fin", "date_signature"]))
    if signed and not earliest <= signed <= today:
        failed.append(("signature_out_of_range", ["date_signature"]))
    return failed


def party_checks(record: dict) -> list[tuple[str, list[str]]]:
    failed = []
    delegant, delegataire = record.get("delegant") or {}, record.get("delegataire") or {}
    for key in ("nom", "sigle"):
        if delegant.get(key) and fold(delegant[key]) == fold(delegataire.get(key) or ""):
            failed.append(("same_parties", [f"delegant.{key}", f"delegataire.{key}"]))
            break
    signatories = record.get("signataires") or []
    for role, party in (("delegant", delegant), ("delegataire", delegataire)):
        if not signs_for_itself(party, [s for s in signatories if s.get("partie") == role]):
            keys = [f"signataires[{i}]" for i, s in enumerate(signatories) if s.get("partie") == role]
            failed.append(("representative_not_signing", [f"{role}.representant.nom", *keys]))
    names = [
        {fold(s["nom"]) for s in signatories if s.get("partie") == role and s.get("nom")}
        for role in ("delegant", "delegataire")
    ]
    if names[0] & names[1]:
        failed.append(("same_signatory_both_sides", [f"signataires[{i}]" for i in range(len(signatories))]))
    return failed


def signs_for_itself(party: dict, own: list[dict]) -> bool:
    """Whether the representative named in the party block signs for it, unless someone signs
    by delegation, or nobody is named on one side."""
    name = (party.get("representant") or {}).get("nom")
    if not name or not own or any(s.get("par_delegation") for s in own):
        return True
    return any(same_person(name, s.get("nom")) for s in own)


def same_person(one: str, other: str | None) -> bool:
    """The same words, whatever their case, accents and order ("Bou Hanna Nadi"), a first name
    printed as its initial ("P. Verdier") matching it in full."""
    if not other:
        return False
    words, others = fold(one).split(), fold(other).split()
    return sorted(words) == sorted(others) or initials_match(words, others) or initials_match(others, words)


def initials_match(short: list[str], full: list[str]) -> bool:
    """Whether the words of `short`, some of them initials, name the words of `full`."""
    if len(short) != len(full):
        return False
    rest = list(full)
    for word in sorted(short, key=len, reverse=True):
        found = next((r for r in rest if r == word or (len(word) == 1 and r.startswith(word))), None)
        if found is None:
            return False
        rest.remove(found)
    return True


def as_date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def apply_checks(record: dict, settings: dict, today: date | None = None) -> None:
    """Mark the record with its failed checks, in its evidence and its warnings."""
    today = today or date.today()
    for name, fields in failed_checks(record, settings["earliest_signature"], today):
        add_warning(record, warning("verification_echouee", check=name, reason=settings["checks"][name]))
        for field in fields:
            entry = record["evidence"].get(field)
            if entry is None or entry.get("source") == "correction":
                continue
            entry.setdefault("checks", []).append(name)
            entry["confidence"] = round(entry["confidence"] * settings["check_penalty"], 3)
