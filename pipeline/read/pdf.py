"""Text-layer PDFs with pdfplumber: wrapped lines joined, ruled tables as tab-separated rows."""

from __future__ import annotations

from dataclasses import dataclass

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

from pipeline.errors import BrokenPdf, EncryptedPdf

# Two lines further apart than this many line heights are in different paragraphs.
PARAGRAPH_GAP = 0.8


@dataclass(frozen=True, slots=True)
class Item:
    top: float
    text: str
    left: float | None = None  # None for table rows, which are never joined
    right: float | None = None
    bottom: float | None = None


def open_pdf(path) -> pdfplumber.PDF:
    try:
        pdf = pdfplumber.open(path)
        pages = len(pdf.pages)
    except Exception as error:  # pdfplumber wraps pdfminer's errors in its own
        causes = [error, error.__cause__, *getattr(error, "args", ())]
        if any(isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError) for cause in causes):
            raise EncryptedPdf("PDF chiffré : il faut un mot de passe pour le lire") from error
        raise BrokenPdf(f"PDF endommagé : {' '.join(str(error).split()) or type(error).__name__}") from error
    if pages == 0:
        pdf.close()
        raise BrokenPdf("PDF endommagé : il n'a aucune page")
    return pdf


def page_text(page) -> str:
    """The page's text in reading order, with its ruled tables rendered as tab-separated rows."""
    try:
        tables = page.find_tables()
    except Exception:  # a malformed drawing must not lose the page's text
        tables = []
    boxes = [table.bbox for table in tables]
    outside = page.filter(lambda obj: not any(inside(obj, box) for box in boxes)) if boxes else page
    items = [
        Item(line["top"], line["text"], line["x0"], line["x1"], line["bottom"])
        for line in outside.extract_text_lines()
    ]
    for table in tables:
        rows = table.extract()
        items.append(Item(table.bbox[1], "\n".join(row_text(row) for row in rows)))
    items.sort(key=lambda item: item.top)
    return join_wrapped(items)


def inside(obj: dict, box: tuple) -> bool:
    x = (obj.get("x0", 0) + obj.get("x1", 0)) / 2
    y = (obj.get("top", 0) + obj.get("bottom", 0)) / 2
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def row_text(row: list) -> str:
    return "\t".join(" ".join((cell or "").split()) for cell in row)


def join_wrapped(items: list[Item]) -> str:
    """Join a line to the next when the next one's first word would have fitted on it."""
    rights = [item.right for item in items if item.right is not None]
    if not rights:
        return "\n".join(item.text for item in items)
    margin = max(rights)
    out: list[str] = []
    previous: Item | None = None
    for item in items:
        if previous and item.right is not None and wrapped(previous, item, margin):
            out[-1] += " " + item.text
        else:
            out.append(item.text)
        previous = item if item.right is not None else None
    return "\n".join(out)


def wrapped(line: Item, following: Item, margin: float) -> bool:
    height = line.bottom - line.top
    if following.top - line.bottom > PARAGRAPH_GAP * height:
        return False
    char_width = (line.right - line.left) / max(len(line.text), 1)
    first_word = following.text.split(" ", 1)[0]
    return line.right + char_width * (len(first_word) + 1) > margin
