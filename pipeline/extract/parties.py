"""The two parties: name, sigle, address and representative, with their role."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from pipeline.extract.names import clean, fold, org_name, person_name
from pipeline.extract.segment import Span
from pipeline.model import Candidate, Document
from pipeline.patterns import Patterns

ROLES = ("delegant", "delegataire")
ROLE_LABELS = {"delegant": "délégant", "delegataire": "délégataire"}


@dataclass(slots=True)
class Party:
    span: Span | None
    role: str | None = None
    role_source: str = "text"  # "text", "complement", "order" or "signature"
    fields: dict[str, Candidate] = field(default_factory=dict)  # "nom", "representant.nom"...


def extract_parties(doc: Document, spans: list[Span], patterns: Patterns) -> list[Party]:
    parties = [read_party(doc, span, patterns) for span in spans[:2]]
    assign_roles(doc, parties, patterns)
    for party in parties:
        if "sigle" not in party.fields:
            sigle = sigle_from_initials(doc, party, patterns)
            if sigle:
                party.fields["sigle"] = sigle
    return [party for party in parties if party.role]


def read_party(doc: Document, span: Span, patterns: Patterns) -> Party:
    party = Party(span)
    text = doc.plain
    article = patterns.regex("parties", "article").match(text, span.start, span.end)
    name_start = article.end() if article else skip_space(text, span.start)
    name_end = patterns.regex("parties", "name_end").search(text, name_start, span.end)
    end = name_end.start() if name_end else span.end
    if end > name_start:
        party.fields["nom"] = Candidate(
            org_name(text[name_start:end]), doc.evidence(name_start, end), 0.9, "parties.name"
        )
    sigle = patterns.regex("parties", "sigle_in_name").match(text, end, span.end)
    if not sigle:
        sigle = patterns.regex("parties", "sigle_alias").search(text, span.start, span.end)
    if sigle:
        party.fields["sigle"] = group_candidate(doc, sigle, "sigle", 0.9, "parties.sigle", clean)
    address = patterns.regex("parties", "address").search(text, span.start, span.end)
    if address:
        party.fields["adresse"] = group_candidate(doc, address, "value", 0.85, "parties.address", clean)
    elif street := patterns.regex("parties", "street_address").search(text, span.start, span.end):
        party.fields["adresse"] = group_candidate(doc, street, "value", 0.75, "parties.street_address", clean)
    rep = patterns.regex("parties", "representative").search(text, span.start, span.end)
    rep = rep or patterns.regex("parties", "representative_function_first").search(text, span.start, span.end)
    if rep:
        party.fields["representant.nom"] = group_candidate(
            doc, rep, "name", 0.9, "parties.representative", person_name
        )
        party.fields["representant.fonction"] = group_candidate(
            doc, rep, "function", 0.8, "parties.representative", clean
        )
    return party


def skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\n,:*":
        position += 1
    return position


def group_candidate(doc, match, group, confidence, rule, normalise) -> Candidate:
    start, end = match.span(group)
    return Candidate(normalise(match[group]), doc.evidence(start, end), confidence, rule)


def assign_roles(doc: Document, parties: list[Party], patterns: Patterns) -> None:
    for party in parties:
        party.role = read_role(doc, party.span, patterns)
    known = [p.role for p in parties if p.role]
    if len(parties) == 2 and len(known) == 1:
        unknown = next(p for p in parties if not p.role)
        unknown.role = next(r for r in ROLES if r != known[0])
        unknown.role_source = "complement"
        doc.warnings.append(
            f"rôle de « {name_of(unknown)} » lu comme {ROLE_LABELS[unknown.role]} : "
            f"l'autre partie est {ROLE_LABELS[known[0]]}"
        )
    elif len(parties) == 2 and (not known or known[0] == known[-1] and len(known) == 2):
        parties[0].role, parties[1].role = ROLES
        parties[0].role_source = parties[1].role_source = "order"


def name_of(party: Party) -> str:
    nom = party.fields.get("nom")
    return nom.value if nom else "?"


def read_role(doc: Document, span: Span, patterns: Patterns) -> str | None:
    rules = patterns["roles"]
    skipped = [fold(word) for word in rules["not_roles"]]
    for match in patterns.regex("roles", "role_word").finditer(doc.plain, span.start, span.end):
        word = match[0].lower()
        following = doc.plain[match.start() : match.end() + 12]
        if fold(word) in skipped or any(fold(following).startswith(s) for s in skipped):
            continue
        role = classify_role(word, rules)
        if role:
            if word not in rules[role]:
                doc.warnings.append(f"mention de rôle « {match[0]} » lue comme {ROLE_LABELS[role]}")
            return role
    return None


def classify_role(word: str, rules: dict) -> str | None:
    """The role whose label is closest to the word, when close enough."""
    best = max(
        (
            (difflib.SequenceMatcher(None, word, label).ratio(), role)
            for role in ROLES
            for label in rules[role]
        ),
    )
    return best[1] if best[0] >= rules["similarity"] else None


def acronym(name: str, patterns: Patterns) -> str:
    skip = set(patterns["parties"]["initials_skip"])
    words = re.findall(r"[A-Za-zÀ-ÿ]+", name.replace("'", " ").replace("’", " "))
    return "".join(word[0] for word in words if word.lower() not in skip).upper()


def sigle_from_initials(doc: Document, party: Party, patterns: Patterns) -> Candidate | None:
    """A sigle the text uses that spells the party's initials: DGITM for Direction générale des
    infrastructures, des transports et de la mer."""
    nom = party.fields.get("nom")
    if not nom:
        return None
    initials = acronym(nom.value, patterns)
    if len(initials) < 3:
        return None
    match = re.search(rf"\b{initials}\b", doc.plain)
    if not match:
        return None
    return Candidate(initials, doc.evidence(*match.span()), 0.7, "parties.sigle_initials")
