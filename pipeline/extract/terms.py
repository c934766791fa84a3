"""When the convention starts and ends: prise d'effet, durée, date de fin, préavis."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from pipeline.extract.values import iso_duration, parse_count, parse_date
from pipeline.model import Candidate, Document
from pipeline.patterns import Patterns

FIELDS = ("prise_effet", "duree", "date_fin", "preavis", "reconduction_tacite")


def extract_terms(
    doc: Document, patterns: Patterns, signed: date | None, end: int | None = None
) -> dict[str, Candidate]:
    """The terms, read in the articles, up to `end` where the signature block starts; a term
    they do not state is looked for after them (annexes, or pages out of order), with less
    confidence."""
    found = {}
    for name in FIELDS:
        candidate = first_rule(doc, patterns, name, signed, 0, end)
        if candidate is None and end is not None:
            candidate = first_rule(doc, patterns, name, signed, end, None)
            candidate = candidate and replace(candidate, confidence=candidate.confidence * 0.8)
        if candidate:
            found[name] = candidate
    return found


def first_rule(
    doc: Document, patterns: Patterns, name: str, signed: date | None, start: int, end: int | None
) -> Candidate | None:
    for index, rule in enumerate(patterns["terms"][name]):
        for match in patterns.finditer(doc, "terms", name, index, "pattern", start=start, end=end):
            if rule.get("about_convention") and not said_before(doc, patterns, "subject", match.start()):
                continue
            if any(said_before(doc, patterns, words, match.start()) for words in rule.get("unless", ())):
                continue
            if not all(said_before(doc, patterns, words, match.start()) for words in rule.get("only_if", ())):
                continue
            value = rule_value(match, rule, patterns, signed)
            if value is not None:
                evidence = doc.evidence(*match.span())
                return Candidate(value, evidence, rule["confidence"], f"terms.{name}.{rule['name']}")
    return None


def said_before(doc: Document, patterns: Patterns, words: str, position: int) -> bool:
    """Whether the sentence up to a position holds some of these words ("subject": the
    convention as its subject; "renewal": its renewal…)."""
    start = max(doc.lower.rfind(mark, 0, position) for mark in ".;\n")
    start = max(start + 1, position - patterns["terms"]["subject_within_chars"])
    return bool(patterns.folded("terms", words).search(doc.lower, start, position))


def rule_value(match, rule: dict, patterns: Patterns, signed: date | None) -> object:
    groups = match.groupdict()
    if rule.get("value") == "end_of_signature_year":
        return date(signed.year, 12, 31) if signed else None
    if "value" in rule:
        return rule["value"]
    if groups.get("date"):
        return parse_date(groups["date"])
    if groups.get("count"):
        count = parse_count(groups["count"])
        unit = patterns["values"]["units"].get(groups["unit"].lower())
        return iso_duration(count, unit) if count and unit else None
    return None
