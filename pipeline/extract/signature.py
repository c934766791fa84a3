"""The signature block: date and place of signature, and who signed for which party."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import regex

from pipeline.extract.amounts import Cell, lines_of
from pipeline.extract.checks import same_person
from pipeline.extract.names import clean, fold, person_name
from pipeline.extract.nlp import person_by_model
from pipeline.extract.parties import Party, role_of
from pipeline.extract.segment import Span
from pipeline.extract.values import parse_date
from pipeline.model import Candidate, Document, warning
from pipeline.patterns import Patterns


@dataclass(frozen=True, slots=True)
class Signatory:
    nom: str
    partie: str | None
    fonction: str | None
    par_delegation: bool


def extract_place_date(
    doc: Document, span: Span | None, patterns: Patterns, heading_end: int = 0
) -> dict[str, Candidate]:
    """Place and date from the "Fait à …" line; with none (or its date left blank), from a
    "Paris, le …" line above the signatures, else from a letter's "Bordeaux, le …" line heading
    the act (before `heading_end`, where the parties start)."""
    if span is None or not patterns.folded("document", "signature_start").match(doc.lower, span.start):
        return place_date_lines(doc, patterns, heading_end)
    found = fait_place_date(doc, span, patterns)
    if "date_signature" not in found:
        found = place_date_lines(doc, patterns, heading_end) | found
    return found


def place_date_lines(doc: Document, patterns: Patterns, heading_end: int) -> dict[str, Candidate]:
    tail = len(doc.plain) * 2 // 3
    return place_date_line(doc, patterns, tail, None, "signature.place_date") or place_date_line(
        doc, patterns, 0, min(heading_end, tail), "signature.place_date_heading"
    )


def fait_place_date(doc: Document, span: Span, patterns: Patterns) -> dict[str, Candidate]:
    window = fait_window(doc, span, patterns)
    found = {}
    place = patterns.regex("signature", "place").search(window.text)
    if place:
        start = window.start + place.start("place")
        found["lieu_signature"] = Candidate(
            clean(place["place"]), doc.evidence(start, start + len(place["place"])), 0.9, "signature.place"
        )
    date_match = patterns.regex("fragments", "date").search(window.text)
    parsed = parse_date(date_match[0]) if date_match else None
    if parsed:
        start = window.start + date_match.start()
        found["date_signature"] = Candidate(
            parsed, doc.evidence(start, start + len(date_match[0])), 0.9, "signature.date"
        )
        if place and place["word"].lower() == "le":
            doc.warnings.append(warning("fait_le_inverse"))
    else:
        doc.warnings.append(warning("date_signature_blanc"))
    return found


def fait_window(doc: Document, span: Span, patterns: Patterns) -> Cell:
    """The "Fait à …" line, with the next one when it is short enough to belong to it."""
    lines = lines_of(doc.plain[span.start : span.end])
    first = Cell(lines[0].text, span.start + lines[0].start)
    if len(lines) > 1 and len(lines[1].text.strip()) <= patterns["signature"]["continuation_max_chars"]:
        second = span.start + lines[1].start
        if not patterns.regex("roles", "signature_label").match(lines[1].text):
            return Cell(doc.plain[first.start : second + len(lines[1].text)], first.start)
    return first


def place_date_line(
    doc: Document, patterns: Patterns, start: int, end: int | None, rule: str
) -> dict[str, Candidate]:
    """Place and date from the last "Paris, le …" line between two offsets."""
    matches = list(patterns.finditer(doc, "signature", "place_date", start=start, end=end))
    if not matches:
        return {}
    match = matches[-1]
    place = doc.plain[slice(*match.span("place"))]
    found = {"lieu_signature": Candidate(place, doc.evidence(*match.span("place")), 0.75, rule)}
    parsed = parse_date(doc.plain[slice(*match.span("date"))])
    if parsed:
        found["date_signature"] = Candidate(parsed, doc.evidence(*match.span("date")), 0.75, rule)
    return found


def extract_signatories(
    doc: Document, span: Span | None, patterns: Patterns, parties: list[Party], nlp=None
) -> list[Candidate]:
    if span is None:
        return []
    lines, names = signature_lines(doc, span, patterns, nlp)
    found, stacks, previous = [], [], -1
    for index in names:
        between = lines[previous + 1 : index]
        stacks.append(heading_roles(between, parties, patterns))
        role, confidence = signatory_role(lines[index].text, between, parties, patterns)
        signatory = Signatory(
            person_name(strip_civility(lines[index].text, patterns)),
            role,
            function_near(doc.plain, lines, index, names, patterns),
            any(patterns.regex("signature", "by_delegation").search(line.text) for line in between),
        )
        line = lines[index]
        found.append(
            Candidate(
                signatory,
                doc.evidence(line.start, line.start + len(line.text.rstrip())),
                confidence,
                "signature.signatory",
            )
        )
        previous = index
    share_stacked_headings(found, stacks, patterns)
    inherit_headings(found, [roles[-1] if roles else None for roles, _ in stacks])
    fill_roles_by_elimination(found, parties)
    fill_roles_by_order(doc, found)
    return found


def heading_roles(
    between: list[Cell], parties: list[Party], patterns: Patterns
) -> tuple[list[str], list[Cell]]:
    """The roles the heading lines above a signature name, in order ("Le délégant", "Pour la
    DNUM": a party's name, sigle or office), and the lines after the last of them."""
    roles, after = [], between
    for index, line in enumerate(between):
        label = patterns.regex("roles", "signature_label").match(line.text)
        for_party = patterns.regex("signature", "for_party").match(line.text)
        role = role_of(label["role"].lower(), patterns) if label else None
        role = role or (party_named(for_party["org"], parties) if for_party else None)
        if role:
            roles.append(role)
            after = between[index + 1 :]
    return roles, after


def share_stacked_headings(
    found: list[Candidate], stacks: list[tuple[list[str], list[Cell]]], patterns: Patterns
) -> None:
    """Two columns that OCR read line by line stack their headings ("Le délégant", "Le
    délégataire") above their names: the names that follow, with no heading of their own,
    take them in order, and each its office from the lines after the headings, which
    alternate between the columns too. A signatory matched to a party's representative keeps
    its role; one with no name to share them with takes the heading closest to it."""
    for i, (stack, after) in enumerate(stacks):
        if len(set(stack)) < 2:
            continue
        width = len(stack)
        shared = i + width <= len(found) and not any(stacks[i + j][0] for j in range(1, width))
        for j, role in enumerate(stack if shared else [stack[-1]]):
            candidate, old = found[i + j], found[i + j].value
            role = old.partie if candidate.confidence >= 0.95 else role
            offices = [office(line.text, patterns) for line in after[j::width]] if shared else []
            function = next((o for o in offices if o), old.fonction)
            if (role, function) != (old.partie, old.fonction):
                signatory = Signatory(old.nom, role, function, old.par_delegation)
                found[i + j] = Candidate(
                    signatory, candidate.evidence, 0.7, "signature.signatory_stacked_headings"
                )


def fill_roles_by_order(doc: Document, found: list[Candidate]) -> None:
    """Two signatories and no role said for either: as in the décret's model, the délégant
    signs first (on the left)."""
    if len(found) != 2 or any(c.value.partie for c in found):
        return
    for i, role in enumerate(("delegant", "delegataire")):
        old = found[i]
        signatory = Signatory(old.value.nom, role, old.value.fonction, old.value.par_delegation)
        found[i] = Candidate(signatory, old.evidence, 0.6, "signature.signatory_by_order")
    doc.warnings.append(warning("roles_signataires_par_ordre"))


def inherit_headings(found: list[Candidate], headings: list[str | None]) -> None:
    """A block with no role of its own under a party's heading ("Le délégant :" over two
    signatures) takes that heading's role, when a later heading ("Le délégataire :", "Pour le
    SSF") names the other party: the headings then share out the blocks."""
    for i, candidate in enumerate(found):
        above = [role for role in headings[:i] if role]
        below = [role for role in headings[i + 1 :] if role]
        if candidate.value.partie is None and above and below and below[0] != above[-1]:
            old = candidate.value
            signatory = Signatory(old.nom, above[-1], old.fonction, old.par_delegation)
            found[i] = Candidate(signatory, candidate.evidence, 0.75, "signature.signatory_under_heading")


def signature_lines(doc: Document, span: Span, patterns: Patterns, nlp) -> tuple[list[Cell], list[int]]:
    """The block's lines after its "Fait à …" or "Paris, le …" line, and the indexes of those
    that are a person's name."""
    lines = [Cell(c.text, span.start + c.start) for c in lines_of(doc.plain[span.start : span.end])]
    if lines and not patterns.regex("signature", "labels_line").match(lines[0].text):
        lines = lines[1:]
    lines = [cell for line in by_column(lines, patterns) for cell in comma_parts(line, patterns, nlp)]
    return lines, [i for i, line in enumerate(lines) if is_person(line.text, patterns, nlp)]


def comma_parts(line: Cell, patterns: Patterns, nlp) -> list[Cell]:
    """A whole block on one line ("Pour le ministre et par délégation, le directeur des
    affaires financières, Jean DUPONT") read as its lines, when it ends with a name."""
    if ", " not in line.text or is_person(line.text, patterns, nlp):
        return [line]
    parts, position = [], 0
    for piece in re.findall(r"[^,]+,?", line.text):
        if piece.strip(" \t,"):
            parts.append(Cell(piece, line.start + position))
        position += len(piece)
    return parts if parts and is_person(parts[-1].text, patterns, nlp) else [line]


def by_column(lines: list[Cell], patterns: Patterns) -> list[Cell]:
    """Signatures side by side ("Le délégant<gap>Le délégataire") read column by column: the
    left column's lines, then the right one's."""
    gap = patterns.regex("signature", "column_gap")
    rows = [split_at(line, gap) for line in lines]
    if not any(len(row) > 1 for row in rows):
        return lines
    columns: dict[int, list[Cell]] = {}
    for line, row in zip(lines, rows, strict=True):
        first = 1 if len(row) == 1 and gap.match(line.text) else 0
        for index, cell in enumerate(row, start=first):
            columns.setdefault(index, []).append(cell)
    return [cell for index in sorted(columns) for cell in columns[index]]


def split_at(line: Cell, gap: regex.Pattern) -> list[Cell]:
    cells, position = [], 0
    for match in [*gap.finditer(line.text), None]:
        end = match.start() if match else len(line.text)
        if line.text[position:end].strip():
            cells.append(Cell(line.text[position:end], line.start + position))
        position = match.end() if match else end
    return cells


def strip_civility(text: str, patterns: Patterns) -> str:
    """The name without the civility or rank before it: "Le colonel Étienne MARCHAL."."""
    title = patterns.regex("signature", "title_before_name").match(text.strip())
    return text.strip()[title.end() :] if title and title.end() else text


def words_of(text: str) -> list[str]:
    return [fold(word) for word in text.replace("’", "'").replace("'", " ").split()]


def is_person(text: str, patterns: Patterns, nlp) -> bool:
    rules = patterns["signature"]
    candidate = clean(strip_civility(text, patterns))
    if not patterns.regex("fragments", "person_name").fullmatch(candidate):
        return False
    words = words_of(candidate)
    if words[0] in rules["not_first_words"] or vocabulary(
        patterns, "function_words", "organisation_words"
    ) & set(words):
        return False
    if any(word.isupper() and len(word) > 1 for word in candidate.split()) or nlp is None:
        return True
    if patterns.regex("signature", "initial").match(candidate):
        return True
    if words[0] in first_names(patterns):
        return True
    return person_by_model(nlp, candidate)


def first_names(patterns: Patterns) -> frozenset[str]:
    if "first_names" not in patterns.cached:
        patterns.cached["first_names"] = frozenset(fold(name) for name in patterns["first_names"])
    return patterns.cached["first_names"]


def has_function(text: str, patterns: Patterns) -> bool:
    return bool(vocabulary(patterns, "function_words") & set(words_of(text)))


def vocabulary(patterns: Patterns, *lists: str) -> frozenset[str]:
    key = ("signature", *lists)
    if key not in patterns.cached:
        patterns.cached[key] = frozenset(fold(w) for name in lists for w in patterns["signature"][name])
    return patterns.cached[key]


def function_near(
    text: str, lines: list[Cell], index: int, names: list[int], patterns: Patterns
) -> str | None:
    """The office printed with a name: the line before it when that one leads into it ("Le
    directeur des sports,"), else the line after, else the line before; a line set apart by a
    blank line only when no line touches the name."""
    before, after = index - 1, index + 1
    touching = [
        other for other in (before, after) if 0 <= other < len(lines) and adjacent(text, lines, index, other)
    ]
    leads_in = before in touching and lines[before].text.rstrip().endswith(",")
    order = [before] if leads_in else []
    order += [o for o in (after, before) if o in touching] + [after, before]
    for other in dict.fromkeys(order):
        if other < 0 or other >= len(lines) or other in names:
            continue
        if other == after and lines[other].text.rstrip().endswith(","):
            continue
        function = office(lines[other].text, patterns)
        if function:
            return function
    return None


def office(text: str, patterns: Patterns) -> str | None:
    """The office a line names ("Le directeur des sports," -> "Directeur des sports"), if any."""
    function = clean(text)
    lead = patterns.regex("signature", "function_lead").match(function)
    function = function[lead.end() :] if lead else function
    if not has_function(function, patterns) or patterns.regex("signature", "for_party").match(function):
        return None
    article = patterns.regex("parties", "article").match(function)
    function = function[article.end() :] if article else function
    return function[:1].upper() + function[1:]


def adjacent(text: str, lines: list[Cell], one: int, other: int) -> bool:
    """Whether two lines follow each other with no blank line between."""
    first, second = sorted((lines[one], lines[other]), key=lambda cell: cell.start)
    return text.count("\n", first.start + len(first.text), second.start) <= 1


def signatory_role(text, between, parties, patterns) -> tuple[str | None, float]:
    party = party_represented_by(text, parties, patterns)
    if party:
        return party.role, 0.95
    for line in reversed(between):
        for_party = patterns.regex("signature", "for_party").match(line.text)
        if for_party:
            role = party_named(for_party["org"], parties)
            if role:
                return role, 0.85
    role = label_role(between, patterns)
    if role:
        return role, 0.8
    for line in reversed(between):
        role = party_named(line.text, parties)
        if role:
            return role, 0.75
    return None, 0.5


def label_role(between: list[Cell], patterns: Patterns) -> str | None:
    """The role named by the label lines above a signature, when they name only one."""
    labels = [patterns.regex("roles", "signature_label").match(line.text) for line in between]
    roles = {role_of(m["role"].lower(), patterns) for m in labels if m}
    return roles.pop() if len(roles) == 1 and None not in roles else None


def settle_roles(
    doc: Document, span: Span | None, patterns: Patterns, parties: list[Party], nlp=None
) -> None:
    """Roles taken from the order of the parties give way to the signature labels: the
    délégant is the party whose representative signs under "Le délégant"."""
    if span is None or len(parties) != 2 or any(p.role_source != "order" for p in parties):
        return
    lines, names = signature_lines(doc, span, patterns, nlp)
    previous = -1
    for index in names:
        role = label_role(lines[previous + 1 : index], patterns)
        party = party_represented_by(lines[index].text, parties, patterns)
        if role and party:
            other = next(p for p in parties if p is not party)
            party.role, other.role = role, next(r for r in ("delegant", "delegataire") if r != role)
            party.role_source = other.role_source = "signature"
            return
        previous = index
    doc.warnings.append(warning("roles_parties_par_ordre"))


def party_represented_by(text: str, parties: list[Party], patterns: Patterns) -> Party | None:
    name = person_name(strip_civility(text, patterns))
    for party in parties:
        rep = party.fields.get("representant.nom")
        if rep and (
            difflib.SequenceMatcher(None, fold(name), fold(rep.value)).ratio() >= 0.85
            or same_person(name, rep.value)
        ):
            return party
    return None


def parties_from_signatures(doc: Document, signatories: list[Candidate]) -> list[Party]:
    """With no parties block, each role signed for is a party, represented by its signatory."""
    parties = []
    for candidate in signatories:
        signatory = candidate.value
        if signatory.partie and all(p.role != signatory.partie for p in parties):
            party = Party(None, signatory.partie, "signature")
            party.fields["representant.nom"] = Candidate(
                signatory.nom, candidate.evidence, 0.6, "signature.party"
            )
            parties.append(party)
    if parties:
        doc.warnings.append(warning("parties_des_signatures"))
    return parties


def party_named(org: str, parties: list[Party]) -> str | None:
    """The role of the party a text names ("Pour la direction des sports", "Le chef du
    groupement de soutien …"): its name, sigle or representative's office as whole words in the
    text, or the reverse."""
    key = f" {fold(org)} "
    for party in parties:
        fields = ("nom", "sigle", "representant.fonction")
        names = [fold(party.fields[f].value) for f in fields if f in party.fields]
        if any(n and (f" {n} " in key or key.strip() in n) for n in names):
            return party.role
    return None


def fill_roles_by_elimination(found: list[Candidate], parties: list[Party]) -> None:
    """A single signatory left without a role signs for the party nobody else signed for."""
    missing = [i for i, c in enumerate(found) if c.value.partie is None]
    left = {p.role for p in parties} - {c.value.partie for c in found}
    if len(missing) == 1 and len(left) == 1:
        i = missing[0]
        old = found[i]
        signatory = Signatory(old.value.nom, left.pop(), old.value.fonction, old.value.par_delegation)
        found[i] = Candidate(signatory, old.evidence, 0.7, "signature.signatory_by_elimination")
