"""Cut a file holding several acts (a bulletin, a journal, a recueil) into acts, and read each
as a document of its own whose evidence still points into the file's text."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipeline.errors import NotAConvention
from pipeline.extract.kind import first_subject, line_end, title_end
from pipeline.extract.record import extract_document
from pipeline.model import Document, PageInfo
from pipeline.patterns import Patterns


@dataclass(frozen=True, slots=True)
class Title:
    """A line that may start an act: a title of kinds.yaml's forms."""

    start: int
    end: int
    form: dict
    opening: int | None  # where its body opens: parties, visas, enacting words
    parties: bool  # whether a parties block opens its body (after its visas, maybe)
    subject: str | None  # what it is about (kinds.yaml's subjects), when it says


@dataclass(slots=True)
class Acts:
    """What a file holds: its conventions' records, in order, and its other acts' reasons."""

    records: list[dict]
    others: list[str]


def split_acts(doc: Document, patterns: Patterns) -> list[tuple[int, int]]:
    """The acts of the file, as (start, end) in its source text (Document.text), in order; the
    whole text when it holds one act (or none that can be told). An act runs to the next one's
    heading."""
    titles = title_lines(doc, patterns)
    starts: list[int] = []
    current: Title | None = None
    for index, title in enumerate(titles):
        following = titles[index + 1].start if index + 1 < len(titles) else len(doc.plain)
        if title.opening is None or title.opening > following:
            continue  # a heading line of the next title, a contents entry, a running header
        start = heading_start(doc, patterns, titles[:index], title, current)
        title = with_heading_subject(title, titles[:index], start)
        if current is None or opens_new_act(doc, patterns, current, title):
            starts.append(start)
            current = title
    if len(starts) < 2:
        return [(0, len(doc.text))]
    # What comes before the first act (a bulletin's cover, its table of contents) is none.
    bounds = [*(doc.origin[start] for start in starts), len(doc.text)]
    return list(zip(bounds, bounds[1:], strict=False))


def with_heading_subject(title: Title, before: list[Title], start: int) -> Title:
    """A title that names no subject ("Convention du 19-11-2020") takes the one of the heading
    lines above it ("Délégation de gestion entre services")."""
    if title.subject:
        return title
    heading = [other.subject for other in before if other.start >= start and other.subject]
    return replace(title, subject=heading[-1]) if heading else title


def title_lines(doc: Document, patterns: Patterns) -> list[Title]:
    rules = patterns["acts"]
    contents = patterns.folded("kinds", "contents_entry")
    found = []
    for index, form in enumerate(patterns["kinds"]["forms"]):
        for match in patterns.finditer(doc, "kinds", "forms", index, "pattern"):
            end = line_end(doc, match.start())
            if contents.search(doc.lower, match.start(), end):
                continue  # an entry of a table of contents
            opening = body_opening(doc, patterns, end, match.start() + rules["opening_within_chars"])
            subject = first_subject(doc, patterns, match.start(), title_end(doc, patterns, match.start()))
            found.append(
                Title(
                    match.start(),
                    end,
                    form,
                    opening[0] if opening else None,
                    bool(opening and opening[1]),
                    subject["name"] if subject else None,
                )
            )
    return sorted(found, key=lambda title: title.start)


def body_opening(doc: Document, patterns: Patterns, start: int, end: int) -> tuple[int, bool] | None:
    """Where the body opens after a title, and whether a parties block opens it or follows
    its visas."""
    parties = patterns.folded("document", "parties_start").search(doc.lower, start, end)
    found = [parties, patterns.search(doc, "acts", "opening", start=start, end=end)]
    for index in range(len(patterns["kinds"]["enacting"])):
        found.append(patterns.search(doc, "kinds", "enacting", index, "pattern", start=start, end=end))
    starts = [match.start() for match in found if match]
    return (min(starts), bool(parties)) if starts else None


def opens_new_act(doc: Document, patterns: Patterns, current: Title, title: Title) -> bool:
    """A title past the current act's opening starts another act when the current one is
    complete (signed) or a journal's separator came between; else when one is an agreement
    and the other an enacted text (décret, arrêté…), when their titles name different
    subjects, or both open with parties, unless the title repeats the current one (a running
    header)."""
    between = (current.opening, title.start)
    if signed(doc, patterns, *between) or separated(doc, patterns, current, title):
        return True
    if same_line(doc, current, title):
        return False
    if bool(current.form.get("text")) != bool(title.form.get("text")):
        return True
    if current.subject and title.subject and current.subject != title.subject:
        return True
    return title.parties and bool(patterns.folded("document", "parties_start").search(doc.lower, *between))


def same_line(doc: Document, one: Title, other: Title) -> bool:
    return " ".join(doc.lower[one.start : one.end].split()) == " ".join(
        doc.lower[other.start : other.end].split()
    )


def signed(doc: Document, patterns: Patterns, start: int, end: int) -> bool:
    return bool(
        patterns.folded("document", "signature_start").search(doc.lower, start, end)
        or patterns.search(doc, "signature", "place_date", start=start, end=end)
    )


def separated(doc: Document, patterns: Patterns, current: Title, title: Title) -> bool:
    """A separator line between the two that is not the current act's own ("Texte 41 sur 118"
    repeated at the top of each of its pages)."""
    own = {
        key(doc, m)
        for m in patterns.finditer(doc, "acts", "separator", start=current.start - 600, end=current.opening)
    }
    return any(
        key(doc, m) not in own
        for m in patterns.finditer(doc, "acts", "separator", start=current.opening, end=title.start)
    )


def key(doc: Document, match) -> str:
    return " ".join(doc.lower[slice(*match.span())].split())


def heading_start(
    doc: Document, patterns: Patterns, before: list[Title], title: Title, current: Title | None
) -> int:
    """Where the act's heading starts: at its title, or at the heading lines right before it
    (a rubric title, a separator, a NOR line), never inside the act before's body."""
    rules = patterns["acts"]
    floor = max(title.start - rules["heading_max_chars"], current.opening if current else 0)
    marks = [t.start for t in before if t.start >= floor]
    for concern, keys in (("acts", ("separator",)), ("act", ("nor",))):
        marks += [m.start() for m in patterns.finditer(doc, concern, *keys, start=floor, end=title.start)]
    if not marks:
        return line_start(doc, title.start)
    return line_start(doc, min(marks))


def line_start(doc: Document, offset: int) -> int:
    return doc.plain.rfind("\n", 0, offset) + 1


def act_document(doc: Document, start: int, end: int) -> Document:
    """The act's own document: its text, and its pages with their numbers in the file."""
    pages = []
    for index, page in enumerate(doc.pages):
        page_end = doc.pages[index + 1].start if index + 1 < len(doc.pages) else len(doc.text)
        if page.start < end and page_end > start:
            pages.append(PageInfo(page.number, max(page.start - start, 0), page.method, page.ocr_confidence))
    return Document(doc.source, doc.text[start:end], pages, list(doc.warnings), scans=doc.scans)


def extract_acts(doc: Document, patterns: Patterns, nlp=None) -> Acts:
    """The records of the file's conventions, each placed in the file (its rank, pages and
    characters; evidence offsets into the file's text), and why its other acts are none."""
    spans = split_acts(doc, patterns)
    if len(spans) == 1:
        return Acts([placed(extract_document(doc, patterns, nlp), doc, 0, len(doc.text))], [])
    found = Acts([], [])
    for start, end in spans:
        try:
            record = extract_document(act_document(doc, start, end), patterns, nlp)
        except NotAConvention as error:
            found.others.append(str(error))
            continue
        found.records.append(placed(record, doc, start, end))
    for rank, record in enumerate(found.records, start=1):
        record["rang_dans_fichier"] = rank
    return found


def placed(record: dict, doc: Document, start: int, end: int) -> dict:
    """The record with where its act lies in the file, and its evidence's offsets in the file."""
    for entry in record["evidence"].values():
        if entry.get("start") is not None:
            entry["start"] += start
            entry["end"] += start
    numbers = [page["number"] for page in record["pages"]]
    record["pages"] = [dict(page, start=page["start"] + start) for page in record["pages"]]
    position = {
        "rang_dans_fichier": 1,
        "page_debut": min(numbers) if numbers else None,
        "page_fin": max(numbers) if numbers else None,
        "caractere_debut": start,
        "caractere_fin": end,
    }
    return {"fichier_source": record["fichier_source"], **position, **record}
