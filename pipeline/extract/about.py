"""What the convention is: its title (intitule), object (objet) and what it delegates (type_delegation)."""

from __future__ import annotations

from pipeline.extract.names import clean
from pipeline.model import Candidate, Document
from pipeline.patterns import Patterns


def extract_about(doc: Document, patterns: Patterns) -> dict[str, Candidate]:
    found = {}
    title = patterns.search(doc, "about", "title", end=patterns["about"]["title_within_chars"])
    if title:
        found["intitule"] = candidate(
            doc, title, sentence_case(clean(doc.plain[slice(*title.span("value"))])), 0.8, "about.title"
        )
    for index, rule in enumerate(patterns["about"]["object"]):
        match = patterns.search(doc, "about", "object", index, "pattern")
        if match:
            value = sentence_case(clean(doc.plain[slice(*match.span("value"))]))
            found["objet"] = candidate(doc, match, value, rule["confidence"], f"about.object.{index}")
            break
    found["type_delegation"] = delegation_type(doc, patterns)
    return found


def candidate(doc: Document, match, value: str, confidence: float, rule: str) -> Candidate:
    return Candidate(value, doc.evidence(*match.span("value")), confidence, rule)


def delegation_type(doc: Document, patterns: Patterns) -> Candidate:
    """The kind of delegation whose words come first in the text."""
    firsts = []
    for kind in patterns["about"]["type_delegation"]:
        match = patterns.search(doc, "about", "type_delegation", kind)
        if match:
            firsts.append((match.start(), kind, match))
    if not firsts:
        return Candidate(
            patterns["about"]["type_delegation_default"],
            doc.evidence(0, 0),
            0.5,
            "about.type_delegation.default",
        )
    _, kind, match = min(firsts)
    return Candidate(kind, doc.evidence(*match.span()), 0.75, "about.type_delegation")


def sentence_case(text: str) -> str:
    """ "CONVENTION DE GESTION" and "DÉLÉGATION DE GESTION entre …" in sentence case; a code
    after the capitals ("N° 2537/DEF") stays."""
    if text.isupper():
        text = text.lower()
    else:
        words = text.split(" ")
        count = 0
        while count < len(words) and words[count].isalpha() and words[count].isupper():
            count += 1
        if count:
            text = " ".join([word.lower() for word in words[:count]] + words[count:])
    return text[:1].upper() + text[1:]
