"""Which acts are conventions de délégation de gestion: read from the act's title, else from its
parties and what it says; any other act is refused with a French reason naming what it is."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.errors import NotAConvention
from pipeline.extract.segment import segment
from pipeline.model import Candidate, Document, warning
from pipeline.patterns import Patterns

LINE = re.compile(r"[^\n]*\n?")


@dataclass(frozen=True, slots=True)
class Kind:
    convention: bool
    reason: str  # French: what the act is, or why it is taken for a convention
    confidence: float
    span: tuple[int, int]  # the words that decided: a title, a party, the text's start


def check_convention(doc: Document, patterns: Patterns) -> Candidate:
    """The decision that the text is a convention, as a candidate to review when doubtful;
    raises NotAConvention, with what the text is, for any other act."""
    kind = classify(doc, patterns)
    if not kind.convention:
        raise NotAConvention(kind.reason)
    if kind.confidence < patterns["review"]["threshold"]:
        doc.warnings.append(warning("convention_incertaine", reason=kind.reason))
    return Candidate("convention", doc.evidence(*kind.span), kind.confidence, "kinds.convention")


def classify(doc: Document, patterns: Patterns) -> Kind:
    blocks = segment(doc, patterns)
    end = min(blocks.heading_end, patterns["kinds"]["heading_max_chars"], len(doc.plain))
    kind = from_title(doc, patterns, end)
    if kind and not kind.convention:
        return kind
    foreign = foreign_party(doc, patterns, [block.start for block in blocks.parties])
    if foreign:
        return foreign
    if kind:
        return kind
    return enacted(doc, patterns) or from_body(doc, patterns, len(blocks.parties))


def from_title(doc: Document, patterns: Patterns, end: int) -> Kind | None:
    """The title nearest the body that says what the act is (a rubric or an issuer may come
    before it); a title that says only "Convention" or "Avenant" leaves it to the others, then
    to the body."""
    rules = patterns["kinds"]
    contents = patterns.folded("kinds", "contents_entry")
    titles = sorted(
        (match.start(), form)
        for index, form in enumerate(rules["forms"])
        for match in patterns.finditer(doc, "kinds", "forms", index, "pattern", end=end)
        if not contents.search(doc.lower, match.start(), line_end(doc, match.start()))
    )
    confidence = rules["confidence"]["title"]
    for start, form in reversed(titles):
        stop = title_end(doc, patterns, start)
        span = (start, min(line_end(doc, start), stop))
        subject = first_subject(doc, patterns, start, stop)
        if form.get("text"):
            return Kind(False, text_reason(doc, patterns, form["name"], subject), confidence, span)
        if subject is None:
            continue
        if subject.get("convention"):
            return Kind(True, f"titre « {doc.plain[slice(*span)].strip()} »", confidence, span)
        return Kind(False, subject["reason"], confidence, span)
    return None


def title_end(doc: Document, patterns: Patterns, start: int) -> int:
    """Where a title ends: at a blank line, unless a title in capitals goes on in capitals
    after it ("CONVENTION DE SERVICES" / "COMPTABLE ET FINANCIER")."""
    limit = min(len(doc.plain), start + patterns["kinds"]["title_max_chars"])
    capitals = doc.plain[start : line_end(doc, start)].isupper()
    end, blank = start, False
    for match in LINE.finditer(doc.plain, start, limit):
        line = match[0].strip()
        if not line:
            blank = True
        elif blank and not (capitals and line.isupper()):
            break
        else:
            end, blank = match.end(), False
    return end


def line_end(doc: Document, offset: int) -> int:
    end = doc.plain.find("\n", offset)
    return end if end != -1 else len(doc.plain)


def first_subject(doc: Document, patterns: Patterns, start: int, stop: int) -> dict | None:
    found = []
    for index, subject in enumerate(patterns["kinds"]["subjects"]):
        match = patterns.search(doc, "kinds", "subjects", index, "pattern", start=start, end=stop)
        if match:
            found.append((match.start(), index, subject))
    return min(found, key=lambda item: item[:2])[2] if found else None


def text_reason(doc: Document, patterns: Patterns, form: str, subject: dict | None) -> str:
    if subject and not subject.get("convention"):
        return f"{form} : {subject['reason']}"
    about = " qui traite de la délégation de gestion" if subject else ""
    return f"{form}{about}, pas une convention de délégation de gestion{cites_decree(doc, patterns)}"


def cites_decree(doc: Document, patterns: Patterns) -> str:
    return " ; il cite le décret 2004-1085" if patterns.search(doc, "kinds", "decree") else ""


def foreign_party(doc: Document, patterns: Patterns, starts: list[int]) -> Kind | None:
    """A party that is no state service: a local authority, an association, a company."""
    rule = patterns.folded("kinds", "not_state_party")
    for start in starts:
        match = rule.match(doc.lower, start)
        if match:
            name = re.split(r"[,\n]", doc.plain[start : start + 200].strip(), maxsplit=1)[0]
            reason = (
                f"partie qui n'est pas un service de l'État (« {name} ») : "
                "pas une délégation de gestion entre services de l'État"
            )
            return Kind(False, reason, patterns["kinds"]["confidence"]["title"], match.span())
    return None


def enacted(doc: Document, patterns: Patterns) -> Kind | None:
    """A décret, an arrêté or a décision, known by its enacting words ("Arrête :")."""
    for index, rule in enumerate(patterns["kinds"]["enacting"]):
        match = patterns.search(doc, "kinds", "enacting", index, "pattern")
        if match:
            reason = (
                f"{rule['name']} (« {doc.plain[slice(*match.span())].strip()} »), "
                f"pas une convention de délégation de gestion{cites_decree(doc, patterns)}"
            )
            return Kind(False, reason, patterns["kinds"]["confidence"]["title"], match.span())
    return None


def from_body(doc: Document, patterns: Patterns, parties: int) -> Kind:
    """No title says it: two parties, named délégant and délégataire, one entrusting the other."""
    rules = patterns["kinds"]
    roles = patterns.search(doc, "kinds", "roles")
    entrusting = next(
        (
            match
            for index in range(len(rules["entrusting"]))
            if (match := patterns.search(doc, "kinds", "entrusting", index))
        ),
        None,
    )
    if parties < 2:
        reason = (
            "ni titre de convention de délégation de gestion, ni parties « Entre … Et … » : "
            f"pas une convention{cites_decree(doc, patterns)}"
        )
        return Kind(False, reason, rules["confidence"]["title"], (0, 0))
    signs = (("délégant et délégataire", roles), ("gestion confiée", entrusting))
    said = [word for word, found in signs if found]
    if not said:
        reason = "deux parties, mais ni délégant ni délégataire ni gestion confiée : pas une convention"
        return Kind(False, reason, rules["confidence"]["title"], (0, 0))
    match = entrusting or roles
    confidence = rules["confidence"]["body_full" if len(said) == 2 else "body_partial"]
    reason = f"pas de titre qui le dise ; deux parties, {' et '.join(said)}"
    return Kind(True, reason, confidence, match.span())
