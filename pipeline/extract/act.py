"""What the act is and where it was published: nature, NOR, publication, the date in its heading
and, for an avenant, the convention it modifies."""

from __future__ import annotations

import regex

from pipeline.extract.names import clean
from pipeline.extract.values import parse_date
from pipeline.model import Candidate, Document, warning
from pipeline.patterns import Patterns


def extract_act(doc: Document, patterns: Patterns, heading_end: int) -> dict[str, Candidate]:
    """The act's fields, read in its heading (the text up to `heading_end`)."""
    end = min(heading_end, patterns["act"]["heading_max_chars"], len(doc.plain))
    found = {"nature": nature(doc, patterns, end)}
    nor = patterns.search(doc, "act", "nor")
    if nor:
        value = "".join(doc.plain[slice(*nor.span("value"))].split()).upper()
        found["nor"] = Candidate(value, doc.evidence(*nor.span("value")), 0.95, "act.nor")
    found.update(publication(doc, patterns, end))
    if found["nature"].value == "avenant":
        found.update(modified_convention(doc, patterns, end))
    heading_date = dated_heading(doc, patterns, end)
    if heading_date:
        found["date_heading"] = heading_date
    return found


def uncited(doc: Document, patterns: Patterns, matches) -> list[regex.Match]:
    """The matches outside the lines citing other texts ("Vu le décret … du …")."""
    cited = patterns.folded("act", "cited_line")
    kept = []
    for match in matches:
        line_start = doc.lower.rfind("\n", 0, match.start()) + 1
        if not cited.match(doc.lower, line_start):
            kept.append(match)
    return kept


def first_uncited(doc: Document, patterns: Patterns, *keys, end: int) -> regex.Match | None:
    found = uncited(doc, patterns, patterns.finditer(doc, "act", *keys, end=end))
    return found[0] if found else None


def nature(doc: Document, patterns: Patterns, end: int) -> Candidate:
    match = first_uncited(doc, patterns, "avenant", end=end)
    if match:
        return Candidate("avenant", doc.evidence(*match.span()), 0.9, "act.avenant")
    return Candidate("convention", doc.evidence(0, 0), 0.9, "act.convention")


def publication(doc: Document, patterns: Patterns, end: int) -> dict[str, Candidate]:
    found = {}
    for index, rule in enumerate(patterns["act"]["publication"]):
        match = first_uncited(doc, patterns, "publication", index, "pattern", end=end)
        if not match:
            continue
        found["publication.journal"] = Candidate(
            rule["journal"], doc.evidence(*match.span()), 0.9, f"act.publication.{rule['journal']}"
        )
        groups = match.groupdict()
        if groups.get("numero"):
            numero = doc.plain[slice(*match.span("numero"))]
            found["publication.numero"] = Candidate(
                numero, doc.evidence(*match.span("numero")), 0.9, "act.publication.numero"
            )
        if groups.get("date"):
            found["date_publication"] = date_candidate(doc, match, 0.9, "act.publication.date")
        break
    if "date_publication" not in found:
        match = first_uncited(doc, patterns, "published_on", end=end)
        if match:
            found["date_publication"] = date_candidate(doc, match, 0.8, "act.published_on")
    return {key: value for key, value in found.items() if value is not None}


def modified_convention(doc: Document, patterns: Patterns, end: int) -> dict[str, Candidate]:
    for index, rule in enumerate(patterns["act"]["modified"]):
        match = first_uncited(doc, patterns, "modified", index, "pattern", end=end)
        if not match:
            continue
        rule_name = f"act.modified.{rule['name']}"
        reference = clean(doc.plain[slice(*match.span("reference"))])
        found = {
            "convention_modifiee.reference": Candidate(
                reference, doc.evidence(*match.span("reference")), rule["confidence"], rule_name
            )
        }
        if match.groupdict().get("date"):
            found["convention_modifiee.date"] = date_candidate(doc, match, rule["confidence"], rule_name)
        return {key: value for key, value in found.items() if value is not None}
    return {}


def dated_heading(doc: Document, patterns: Patterns, end: int) -> Candidate | None:
    """The act's own date in its heading; two different ones make it doubtful."""
    found = []
    for index, rule in enumerate(patterns["act"]["date"]):
        for match in uncited(doc, patterns, patterns.finditer(doc, "act", "date", index, "pattern", end=end)):
            candidate = date_candidate(doc, match, rule["confidence"], f"act.date.{rule['name']}")
            if candidate:
                found.append(candidate)
    if not found:
        return None
    first = min(found, key=lambda c: c.evidence.start)
    if len({c.value for c in found}) > 1:
        doc.warnings.append(warning("dates_en_tete"))
        return Candidate(first.value, first.evidence, first.confidence * 0.7, first.rule)
    return first


def date_candidate(doc: Document, match: regex.Match, confidence: float, rule: str) -> Candidate | None:
    parsed = parse_date(doc.plain[slice(*match.span("date"))])
    if parsed is None:
        return None
    return Candidate(parsed, doc.evidence(*match.span("date")), confidence, rule)
