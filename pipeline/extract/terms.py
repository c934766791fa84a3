"""When the convention starts and ends: prise d'effet, durée, date de fin, préavis."""

from __future__ import annotations

from datetime import date

from pipeline.extract.values import iso_duration, parse_count, parse_date
from pipeline.model import Candidate, Document
from pipeline.patterns import Patterns

FIELDS = ("prise_effet", "duree", "date_fin", "preavis", "reconduction_tacite")


def extract_terms(doc: Document, patterns: Patterns, signed: date | None) -> dict[str, Candidate]:
    found = {}
    for name in FIELDS:
        candidate = first_rule(doc, patterns, name, signed)
        if candidate:
            found[name] = candidate
    return found


def first_rule(doc: Document, patterns: Patterns, name: str, signed: date | None) -> Candidate | None:
    for index, rule in enumerate(patterns["terms"][name]):
        regex = patterns.folded("terms", name, index, "pattern")
        for match in regex.finditer(doc.lower):
            value = rule_value(match, rule, patterns, signed)
            if value is not None:
                evidence = doc.evidence(*match.span())
                return Candidate(value, evidence, rule["confidence"], f"terms.{name}.{rule['name']}")
    return None


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
