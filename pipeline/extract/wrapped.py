"""Prose that a PDF or OCR wrapped across lines, read as it runs: "do-/maine fonctionnel",
"à compter/du 1er janvier 2024". Offsets are kept, so evidence still points at the source."""

from __future__ import annotations

import re
from dataclasses import replace

from pipeline.model import Document

# A word cut by a hyphen at a line's end, lower case on both sides ("do-\nmaine").
CUT_WORD = re.compile(r"(?<=[a-zà-ÿ])(-[ \t]*\n[ \t]*)([a-zà-ÿ]+)")
# A line break inside a sentence: a line that ends with no stop, followed by one that starts
# no item of a list.
WRAP = re.compile(r"(?<=[^\s.:;!?])([ \t]*)\n(?=[ \t]*[^\s•*–-])")


def unwrapped(doc: Document) -> Document:
    """The document with its paragraphs on one line each: a cut word is joined (the room its
    hyphen and line break took moves after it) and a line break inside a paragraph is a
    space. Same length and offsets as the document, whose warnings it shares."""
    plain = CUT_WORD.sub(lambda m: m[2] + " " * len(m[1]), doc.plain)
    plain = WRAP.sub(lambda m: m[1] + " ", plain)
    return replace(doc, plain=plain)
