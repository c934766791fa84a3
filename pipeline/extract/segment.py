"""Find the blocks of a convention: its parties, their signatures, and the body between."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.errors import NotAConvention
from pipeline.model import Document
from pipeline.patterns import Patterns

# A word of three letters at least: what a party's block holds besides dirt.
WORD = re.compile(r"[^\W\d_]{3}")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PartyBlock:
    intro: int  # where the words that introduce the party start: "Entre", "Et", "Délégataire :"
    start: int  # where the party's own words start
    end: int
    side: int  # 0 up to "d'une part", 1 after it


@dataclass(frozen=True, slots=True)
class Blocks:
    heading_end: int  # where the parties block starts: the act's heading is before
    parties: list[PartyBlock]  # in the order of the text
    signature: Span | None


def check_convention(doc: Document, patterns: Patterns) -> None:
    rules = patterns["document"]
    delegation = markers_found(doc, patterns, "delegation_markers", rules["min_markers"])
    if not delegation:
        raise NotAConvention("pas une convention : aucun des mots propres à une délégation de gestion")
    found = delegation + markers_found(doc, patterns, "other_markers", rules["min_markers"] - delegation)
    if found < rules["min_markers"]:
        total = len(rules["delegation_markers"]) + len(rules["other_markers"])
        raise NotAConvention(f"pas une convention : {found} des {total} marqueurs trouvés")


def markers_found(doc: Document, patterns: Patterns, kind: str, enough: int) -> int:
    """How many markers of a kind the text has, counted up to `enough`."""
    found = 0
    for index in range(len(patterns["document"][kind])):
        if found >= enough:
            break
        found += bool(patterns.folded("document", kind, index).search(doc.lower))
    return found


def segment(doc: Document, patterns: Patterns) -> Blocks:
    signature = find_signature(doc, patterns)
    start = parties_start(doc, patterns, signature.start if signature else len(doc.plain))
    heading_end = start[0] if start else len(doc.plain)
    return Blocks(heading_end, find_parties(doc, patterns, start), signature)


def parties_start(doc: Document, patterns: Patterns, before: int) -> tuple[int, int] | None:
    """Where the parties block starts and its first party's words begin: after "Entre", or
    with no "Entre", at the paragraph that ends "d'une part"."""
    start = patterns.folded("document", "parties_start").search(doc.lower, 0, before)
    if start:
        return start.span()
    within = min(before, patterns["document"]["first_party_within_chars"])
    for first_part in patterns.folded("document", "first_party_end").finditer(doc.lower, 0, within):
        paragraph = doc.lower.rfind("\n\n", 0, first_part.start())
        line = doc.lower.rfind("\n", 0, first_part.start())
        begin = paragraph + 2 if paragraph != -1 and line - paragraph < 400 else line + 1
        if patterns.folded("document", "party_designation").search(doc.lower, begin, first_part.start()):
            return begin, begin
    return None


def find_parties(doc: Document, patterns: Patterns, start: tuple[int, int] | None) -> list[PartyBlock]:
    if not start:
        return []
    end = patterns.folded("document", "parties_end").search(doc.lower, start[1])
    stop = end.start() if end else min(len(doc.plain), start[1] + 3000)
    cuts = list(patterns.folded("document", "parties_split").finditer(doc.lower, start[1], stop))
    if not cuts:
        role_lines = list(
            patterns.folded("document", "party_role_line_end").finditer(doc.lower, start[1], stop)
        )
        if len(role_lines) > 1:
            stop, cuts = role_lines[-1].start(), role_lines[:-1]
    intros = [(*start, False), *[(*m.span(), bool(m.groupdict().get("side"))) for m in cuts]]
    blocks, side = [], 0
    for (intro, head, after_side), bound in zip(intros, [*[m.start() for m in cuts], stop], strict=True):
        side += after_side
        # "d'une part," then a line "Et" cut twice: the piece between, blank or OCR dirt, is
        # no party.
        if WORD.search(doc.plain, head, bound):
            blocks.append(PartyBlock(intro, head, bound, side))
    return blocks[: patterns["document"]["max_parties"]]


def looks_truncated(doc: Document, blocks: Blocks, patterns: Patterns) -> bool:
    """No signature block, no signature label near the end, and a last sentence left open."""
    if blocks.signature:
        return False
    tail = max(0, len(doc.plain) - patterns["document"]["signature_max_chars"])
    if patterns.search(doc, "signature", "by_delegation", start=tail) or patterns.search(
        doc, "roles", "signature_label", start=tail
    ):
        return False
    text = doc.plain.rstrip(' \t\n*"')
    if not text or text[-1] in patterns["document"]["complete_endings"]:
        return False
    line_start = text.rfind("\n") + 1
    return not patterns.regex("document", "complete_last_line").search(text, line_start)


def find_signature(doc: Document, patterns: Patterns) -> Span | None:
    """From the last "Fait à …" line, or else from a last "Paris, le …" line in the text's last
    third, to the annexes."""
    starts = list(patterns.folded("document", "signature_start").finditer(doc.lower))
    if not starts:
        tail = len(doc.plain) * 2 // 3
        starts = list(patterns.finditer(doc, "signature", "place_date", start=tail))
    if not starts:
        return None
    begin = starts[-1].start()
    limit = begin + patterns["document"]["signature_max_chars"]
    end = patterns.folded("document", "signature_end").search(doc.lower, begin, limit)
    return Span(begin, end.start() if end else min(limit, len(doc.plain)))
