"""Find the blocks of a convention: its parties, their signatures, and the body between."""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex

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


def segment(doc: Document, patterns: Patterns) -> Blocks:
    signature = find_signature(doc, patterns)
    start = parties_start(doc, patterns, signature.start if signature else len(doc.plain))
    heading_end = start[0] if start else len(doc.plain)
    return Blocks(heading_end, find_parties(doc, patterns, start), signature)


def parties_start(doc: Document, patterns: Patterns, before: int) -> tuple[int, int] | None:
    """Where the parties block starts and its first party's words begin: after the first
    "Entre" before the articles whose block designates a party (a title "… entre la direction A
    et le service B" designates none), else the first "Entre"; with none, at the paragraph that
    ends "d'une part"."""
    starts = list(patterns.folded("document", "parties_start").finditer(doc.lower, 0, before))
    articles = patterns.folded("document", "articles_start").search(doc.lower, 0, before)
    heading = [m for m in starts if not articles or m.start() < articles.start()]
    bounds = [m.start() for m in heading[1:]] + [before]
    for start, bound in zip(heading, bounds, strict=False):
        if designates(doc, patterns, start.end(), bound):
            return start.span()
    if starts:
        return starts[0].span()
    within = min(before, patterns["document"]["first_party_within_chars"])
    for first_part in patterns.folded("document", "first_party_end").finditer(doc.lower, 0, within):
        paragraph = doc.lower.rfind("\n\n", 0, first_part.start())
        line = doc.lower.rfind("\n", 0, first_part.start())
        begin = paragraph + 2 if paragraph != -1 and line - paragraph < 400 else line + 1
        if patterns.folded("document", "party_designation").search(doc.lower, begin, first_part.start()):
            return begin, begin
    return role_paragraph(doc, patterns, within)


def role_paragraph(doc: Document, patterns: Patterns, within: int) -> tuple[int, int] | None:
    """The start of the paragraph of the first party a role line designates, before the
    articles."""
    articles = patterns.folded("document", "articles_start").search(doc.lower, 0, within)
    roles = patterns.folded("document", "party_role_paragraph").finditer(
        doc.lower, 0, articles.start() if articles else within
    )
    for role in roles:
        paragraph = doc.lower.rfind("\n\n", 0, role.start())
        begin = paragraph + 2 if paragraph != -1 else 0
        if not patterns.folded("document", "citing_paragraph").match(doc.lower, begin):
            return begin, begin
    return None


def designates(doc: Document, patterns: Patterns, start: int, stop: int) -> bool:
    """Whether the words from `start` to the body (or `stop`) designate a party."""
    end = patterns.folded("document", "parties_end").search(doc.lower, start, stop)
    stop = end.start() if end else stop
    return bool(patterns.folded("document", "party_designation").search(doc.lower, start, stop))


def find_parties(doc: Document, patterns: Patterns, start: tuple[int, int] | None) -> list[PartyBlock]:
    if not start:
        return []
    end = patterns.folded("document", "parties_end").search(doc.lower, start[1])
    stop = end.start() if end else min(len(doc.plain), start[1] + 3000)
    cuts = list(patterns.folded("document", "parties_split").finditer(doc.lower, start[1], stop))
    if not cuts and not designates(doc, patterns, start[1], stop):
        stop, cuts = title_parties(doc, patterns, start[1], stop)
    if not cuts:
        cuts = prose_parties(doc, patterns, start[1], stop)
    if not cuts:
        role_lines = list(
            patterns.folded("document", "party_role_line_end").finditer(doc.lower, start[1], stop)
        )
        if len(role_lines) > 1:
            stop, cuts = role_lines[-1].start(), role_lines[:-1]
    intros = [(*start, None), *[(m.start(), m.end(), m) for m in cuts]]
    blocks, side, leads = [], 0, False
    for (intro, head, cut), bound in zip(intros, [*[m.start() for m in cuts], stop], strict=True):
        kind = next((k for k, v in cut.groupdict().items() if v), None) if cut else None
        # "Entre A, d'une part, et B": "d'une part" closes a side. "Entre D'une part, A ;
        # D'autre part, B ; Et De troisième part, C": "Et" does.
        if kind == "side" or (cut and kind != "lead" and leads):
            side += 1
        leads = leads or kind == "lead"
        # "d'une part," then a line "Et" cut twice: the piece between, blank or OCR dirt, is
        # no party.
        if WORD.search(doc.plain, head, bound):
            blocks.append(PartyBlock(intro, head, bound, side))
    return blocks[: patterns["document"]["max_parties"]]


def title_parties(doc: Document, patterns: Patterns, start: int, stop: int) -> tuple[int, list]:
    """A title's parties, "entre la direction A et le service B relative à …": where they end,
    and the cut between them."""
    end = patterns.folded("document", "party_title_end").search(doc.lower, start, stop)
    stop = end.start() if end else stop
    return stop, list(patterns.folded("document", "party_title_split").finditer(doc.lower, start, stop))[:1]


def prose_parties(doc: Document, patterns: Patterns, start: int, stop: int) -> list:
    """The cuts between parties in prose, ", et la direction …", where each names its own
    representative."""
    cuts, begin = [], start
    represented = patterns.folded("document", "party_represented")
    for cut in patterns.folded("document", "party_prose_split").finditer(doc.lower, start, stop):
        before = represented.search(doc.lower, begin, cut.start())
        if before and represented.search(doc.lower, cut.end(), stop):
            cuts.append(cut)
            begin = cut.end()
    return cuts


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
    third, or else from the first of its last lines naming a signing party ("Le délégant,"),
    to the annexes."""
    tail = len(doc.plain) * 2 // 3
    starts = list(patterns.folded("document", "signature_start").finditer(doc.lower))
    if not starts:
        starts = list(patterns.finditer(doc, "signature", "place_date", start=tail))
    if not starts:
        starts = last_labels(doc, patterns, tail)
    if not starts:
        return None
    begin = starts[-1].start()
    limit = begin + patterns["document"]["signature_max_chars"]
    end = patterns.folded("document", "signature_end").search(doc.lower, begin, limit)
    return Span(begin, end.start() if end else min(limit, len(doc.plain)))


def last_labels(doc: Document, patterns: Patterns, tail: int) -> list[regex.Match]:
    """The first of the last labels above signatures ("Le délégant," … "Le délégataire,"),
    each within reach of the next: labels further up (a parties block) are no signatures."""
    labels = list(patterns.finditer(doc, "signature", "labels_line", start=tail))
    reach = patterns["signature"]["labels_reach"]
    first = len(labels) - 1
    while first > 0 and labels[first].start() - labels[first - 1].start() <= reach:
        first -= 1
    return labels[first:][:1]
