"""The values that flow between stages: documents, evidence, candidates, and each file's outcome."""

from __future__ import annotations

import bisect
import dataclasses
import os
import re
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path

import yaml

from pipeline import PATTERNS_DIR


@dataclass(frozen=True, slots=True)
class Evidence:
    text: str  # the exact source span
    start: int  # character offsets in Document.text, the source (not in its reading, plain)
    end: int
    page: int | None  # 1-based, for PDFs


@dataclass(frozen=True, slots=True)
class Warning:
    """What a reader should know about a record: a code of patterns/warnings.yaml, the field it
    concerns (None: the document), and what its text quotes or counts."""

    code: str
    field: str | None = None
    params: dict = dataclasses.field(default_factory=dict, hash=False)

    def text(self) -> str:
        """The French sentence of patterns/warnings.yaml, rendered when a file is written."""
        return catalogue()[self.code]["text"].format(field=self.field, **self.params)

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "params": self.params}


def warning(code: str, field: str | None = None, **params: object) -> Warning:
    """A warning of the catalogue, with the field its code always concerns unless given."""
    return Warning(code, field or catalogue()[code].get("field"), params)


def add_warning(record: dict, raised: Warning) -> None:
    """A warning raised on a record already built: its text for users, its code beside."""
    record["warnings"].append(raised.text())
    record["warning_codes"].append(raised.as_dict())


@cache
def catalogue() -> dict:
    return yaml.safe_load((PATTERNS_DIR / "warnings.yaml").read_bytes())


@dataclass(frozen=True, slots=True)
class Candidate:
    value: object  # normalised: "0148-CAFP-C004", 215000, date(2020, 2, 20), "P1Y"
    evidence: Evidence
    confidence: float  # 0..1, from the rule that matched
    rule: str  # which pattern produced it, e.g. "chorus.centre_financier"


@dataclass(frozen=True, slots=True)
class PageInfo:
    number: int  # 1-based
    start: int  # offset of the page's first character in Document.text
    method: str  # "text" for a text layer or a .txt file, "ocr" for Tesseract
    ocr_confidence: float | None = None


@dataclass(slots=True)
class Document:
    """A file's text as read (the source) and its reading, the text every rule runs on: the
    source normalised (pipeline/read/normalise.py), markup blanked. Offsets found by rules are
    offsets of the reading (plain, lower); evidence and pages hold offsets of the source."""

    source: str  # file name, as written in fichier_source
    text: str  # the text as read: the source that evidence quotes
    pages: list[PageInfo] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    plain: str = ""  # the reading: the text normalised, markup blanked out
    lower: str = ""  # plain in lower case, same length and offsets
    scans: dict = field(default_factory=dict)  # page number -> OcrPage, for OCR'd pages
    origin: list[int] = field(default_factory=list)  # for each offset of plain (and its end), text's

    def __post_init__(self) -> None:
        from pipeline.read.normalise import normalise

        controls = len(CONTROL.findall(self.text))
        if controls:
            self.text = CONTROL.sub(" ", self.text)
            self.warnings.append(warning("caracteres_controle", count=controls))
        reading = normalise(blank_markup(self.text), [page.start for page in self.pages])
        self.plain, self.origin = reading.text, reading.origin
        self.warnings += reading.warnings
        self.lower = lower_in_place(self.plain)

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The offsets in text of what plain holds between start and end."""
        first = self.origin[start]
        return first, (self.origin[end - 1] + 1 if end > start else first)

    def page_info(self, offset: int) -> PageInfo | None:
        """The page of an offset of plain."""
        return self.source_page(self.origin[offset])

    def source_page(self, offset: int) -> PageInfo | None:
        if not self.pages:
            return None
        starts = [page.start for page in self.pages]
        return self.pages[bisect.bisect_right(starts, offset) - 1]

    def page_at(self, offset: int) -> int | None:
        page = self.page_info(offset)
        return page.number if page else None

    def method_at(self, offset: int) -> str | None:
        page = self.page_info(offset)
        return page.method if page else None

    def evidence(self, start: int, end: int) -> Evidence:
        """The evidence of what plain holds between start and end: the source it was read from."""
        first, last = self.source_span(start, end)
        page = self.source_page(first)
        return Evidence(self.text[first:last], first, last, page.number if page else None)


@dataclass(frozen=True, slots=True)
class Limits:
    max_mb: float = 60.0
    max_text_mb: float = 10.0  # a convention's text is some 30 kB
    max_pages: int = 200
    max_seconds: float = 600.0
    dpi: int = 300
    max_pixels: int = 60_000_000  # per page image, checked before it is rendered or decoded
    ocr_workers: int = os.cpu_count() or 1
    max_memory_mb: float = 2048.0  # per worker process; 0: no cap


@dataclass(frozen=True, slots=True)
class Options:
    limits: Limits = Limits()
    jobs: int = 0  # 0: all cores
    use_spacy: bool = True
    use_cache: bool = False
    corrections: Path | None = None  # else corrections.csv at the top of an input folder
    cluster: str | None = None  # address of a Dask scheduler: units run on its workers
    cache: str | None = None  # where outcomes are cached (folder or fsspec URL), else OUTPUT/.cache
    sources: Path | None = None  # fichier_source,url_source: where each act is published
    quiet: bool = False  # no progress shown (-q)


@dataclass(slots=True)
class Outcome:
    path: str
    record: dict | None = None
    error: dict | None = None
    excerpts: list | None = None  # the source text around the evidence, for review.html
    crops: dict | None = None  # by evidence key, the scan around values read by OCR, for review.html
    more: list | None = None  # the file's next conventions, each a dict of record, excerpts and crops
    other_acts: int = 0  # acts of the file that are no conventions

    def readings(self) -> list[tuple[dict, list, dict]]:
        """Each convention of the file: its record, excerpts and crops."""
        first = [(self.record, self.excerpts or [], self.crops or {})] if self.record else []
        return first + [(r["record"], r["excerpts"] or [], r["crops"] or {}) for r in self.more or []]


MARKUP = ("**", "<i>", "</i>", "<b>", "</b>")
# Control characters no document means (tabs and line ends aside): spreadsheets refuse them.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A quote escaped by a web page ("d\'une part"): the word before it moves over the backslash.
ESCAPED_QUOTE = re.compile(r"(\w*)(\\+)(['’\"])")


def blank_markup(text: str) -> str:
    """Blank out Markdown/HTML emphasis left by OCR, and the backslash of quotes escaped by web
    pages ("d\\'une" reads " d'une"), keeping every offset in place. A no-break space (web
    pages and PDFs put one inside dates and before colons) reads as a space."""
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    for mark in MARKUP:
        text = text.replace(mark, " " * len(mark))
    if "\\" in text:
        text = ESCAPED_QUOTE.sub(lambda m: " " * len(m[2]) + m[1] + m[3], text)
    return text


def lower_in_place(text: str) -> str:
    """Lower case that keeps every offset: the rare letters whose lower case is longer stay."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def as_dict(flat: object) -> dict:
    """A dataclass of plain values as a dict: dataclasses.asdict without its deep copy."""
    return {f.name: getattr(flat, f.name) for f in fields(flat)}
