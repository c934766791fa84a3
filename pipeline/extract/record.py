"""Run every extractor on a document and assemble its record in the dataset's format."""

from __future__ import annotations

from datetime import date

from pipeline.extract.about import extract_about
from pipeline.extract.act import extract_act
from pipeline.extract.amounts import extract_amounts, total_amount
from pipeline.extract.chorus import extract_chorus
from pipeline.extract.kind import check_convention
from pipeline.extract.parties import Party, extract_parties, main_parties, weigh_by_role
from pipeline.extract.products import extract_products
from pipeline.extract.segment import looks_truncated, segment
from pipeline.extract.signature import (
    extract_place_date,
    extract_signatories,
    parties_from_signatures,
    settle_roles,
)
from pipeline.extract.terms import extract_terms
from pipeline.model import Candidate, Document, as_dict, warning
from pipeline.patterns import Patterns

PARTY_FIELDS = ("nom", "sigle", "adresse", "representant.nom", "representant.fonction")
SCALARS = (
    "programme",
    "programme_libelle",
    "budget_operationnel",
    "centre_financier",
    "centre_cout",
    "domaine_fonctionnel",
    "activite",
    "axe_ministeriel",
    "montant_total",
    "date_signature",
    "lieu_signature",
    "prise_effet",
    "duree",
    "date_fin",
    "preavis",
    "reconduction_tacite",
)


def extract_document(doc: Document, patterns: Patterns, nlp=None) -> dict:
    """The record of one convention; raises NotAConvention for any other text."""
    return build_record(doc, patterns, nlp, check_convention(doc, patterns))


def build_record(doc: Document, patterns: Patterns, nlp=None, kind: Candidate | None = None) -> dict:
    """`kind`: the decision that the text is a convention, which the act's nature takes when
    it is less certain."""
    blocks = segment(doc, patterns)
    # Where a truncated text stops, in the source's offsets, as evidence's are.
    cut = doc.origin[len(doc.plain.rstrip())] if looks_truncated(doc, blocks, patterns) else None
    parties = extract_parties(doc, blocks.parties, patterns, cut)
    settle_roles(doc, blocks.signature, patterns, parties, nlp)
    weigh_by_role(parties, patterns)
    signatories = extract_signatories(doc, blocks.signature, patterns, parties, nlp)
    if not parties:
        parties = parties_from_signatures(doc, signatories)
    found: dict[str, Candidate] = {}
    for role, party in main_parties(parties).items():
        for name, candidate in party.fields.items():
            found[f"{role}.{name}"] = candidate
    found.update(extract_about(doc, patterns))
    found.update(extract_chorus(doc, patterns))
    found.update(extract_place_date(doc, blocks.signature, patterns, blocks.heading_end))
    act = extract_act(doc, patterns, blocks.heading_end)
    heading_date = act.pop("date_heading", None)
    if "date_signature" not in found and heading_date:
        found["date_signature"] = heading_date
    if kind and kind.confidence < act["nature"].confidence:
        act["nature"] = Candidate(act["nature"].value, kind.evidence, kind.confidence, kind.rule)
    found.update(act)
    signed = found.get("date_signature")
    articles_end = blocks.signature.start if blocks.signature else None
    found.update(extract_terms(doc, patterns, signed.value if signed else None, articles_end))
    amounts, totals = extract_amounts(doc, patterns)
    if cut is not None:
        amounts = [c for c in amounts if c.evidence.end < cut]
        totals = [c for c in totals if c.evidence.end < cut]
    total = total_amount(amounts, totals)
    if total:
        found["montant_total"] = total
    sigles = {c.value for key, c in found.items() if key.endswith(".sigle")}
    lists = {
        "signataires": signatories,
        "produits": extract_products(doc, patterns, amounts, sigles),
        "montants": amounts,
    }
    if not parties:
        doc.warnings.append(warning("aucune_partie"))
    if cut is not None:
        drop_cut_values(doc, cut, found, lists)
    return assemble(doc, found, lists, parties)


def drop_cut_values(
    doc: Document, cut: int, found: dict[str, Candidate], lists: dict[str, list[Candidate]]
) -> None:
    """A text cut short: what it does not reach stays null, and a value that runs into the cut
    is a piece of one, dropped."""
    doc.warnings.append(warning("texte_tronque"))
    for key in [key for key, c in found.items() if c.evidence.end >= cut]:
        del found[key]
    for name, candidates in lists.items():
        lists[name] = [c for c in candidates if c.evidence.end < cut]


def assemble(
    doc: Document, found: dict[str, Candidate], lists: dict[str, list[Candidate]], parties: list[Party]
) -> dict:
    record: dict = {"fichier_source": doc.source}
    for name in ("intitule", "objet", "type_delegation"):
        record[name] = value_of(found, name)
    for role in ("delegant", "delegataire"):
        record[role] = party_values(found, f"{role}.")
    record["signataires"] = [as_dict(c.value) for c in lists["signataires"]]
    record["produits"] = [c.value for c in lists["produits"]]
    for name in SCALARS:
        record[name] = value_of(found, name)
    record["montants"] = [as_dict(c.value) for c in lists["montants"]]
    for name in ("nature", "nor"):
        record[name] = value_of(found, name)
    record["publication"] = {
        "journal": value_of(found, "publication.journal"),
        "numero": value_of(found, "publication.numero"),
    }
    record["date_publication"] = value_of(found, "date_publication")
    record["convention_modifiee"] = (
        {
            "reference": value_of(found, "convention_modifiee.reference"),
            "date": value_of(found, "convention_modifiee.date"),
        }
        if record["nature"] == "avenant"
        else None
    )
    record["parties"] = [{"role": party.role, **party_values(party.fields)} for party in parties]
    record["evidence"] = evidence_of(found, lists, parties)
    warned = list(dict.fromkeys(doc.warnings))
    record["warnings"] = [w.text() for w in warned]
    record["warning_codes"] = [w.as_dict() for w in warned]
    record["pages"] = [as_dict(page) for page in doc.pages]
    return record


def party_values(found: dict[str, Candidate], prefix: str = "") -> dict:
    return {
        "nom": value_of(found, f"{prefix}nom"),
        "sigle": value_of(found, f"{prefix}sigle"),
        "adresse": value_of(found, f"{prefix}adresse"),
        "representant": {
            "nom": value_of(found, f"{prefix}representant.nom"),
            "fonction": value_of(found, f"{prefix}representant.fonction"),
        },
    }


def value_of(found: dict[str, Candidate], key: str) -> object:
    candidate = found.get(key)
    if candidate is None:
        return None
    value = candidate.value
    return value.isoformat() if isinstance(value, date) else value


def evidence_of(found: dict[str, Candidate], lists: dict[str, list[Candidate]], parties: list[Party]) -> dict:
    entries = {key: describe(c) for key, c in found.items()}
    for name, candidates in lists.items():
        for index, candidate in enumerate(candidates):
            entries[f"{name}[{index}]"] = describe(candidate)
    for index, party in enumerate(parties):
        for key, candidate in party.fields.items():
            entries[f"parties[{index}].{key}"] = describe(candidate)
    return entries


def describe(candidate: Candidate) -> dict:
    return {
        **as_dict(candidate.evidence),
        "confidence": round(candidate.confidence, 3),
        "rule": candidate.rule,
    }
