"""Read an input file into a Document: text files now, PDFs and images through their readers."""

from __future__ import annotations

from pathlib import Path

from charset_normalizer import from_bytes

from pipeline.model import Document, PageInfo

TEXT_SUFFIXES = {".txt", ".text", ".md"}
PDF_SUFFIXES = {".pdf"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES | IMAGE_SUFFIXES


class ReadError(Exception):
    """A file that cannot be read; its class name is the kind of error reported."""

    kind = "unreadable"


class EmptyFile(ReadError):
    kind = "empty"


class TooLarge(ReadError):
    kind = "too_large"


class UnreadableText(ReadError):
    kind = "unreadable_text"


class UnsupportedFormat(ReadError):
    kind = "unsupported_format"


def read_file(path: Path, max_bytes: int) -> Document:
    size = path.stat().st_size
    if size == 0:
        raise EmptyFile("empty file")
    if size > max_bytes:
        raise TooLarge(f"file of {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit (--max-mb)")
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_text_file(path)
    raise UnsupportedFormat(f"unsupported file type '{suffix}'")


def read_text_file(path: Path) -> Document:
    text = decode(path.read_bytes())
    return Document(path.name, text, [PageInfo(1, 0, "text")])


def decode(raw: bytes) -> str:
    """UTF-8 when it is, else the most likely legacy encoding (Windows-1252, Latin-1…)."""
    if b"\x00" in raw[:4096]:
        raise UnreadableText("binary content, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        guess = from_bytes(raw).best()
        if guess is None:
            raise UnreadableText("no text encoding fits this file") from None
        text = str(guess)
    if not looks_like_text(text):
        raise UnreadableText("binary content, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def looks_like_text(text: str) -> bool:
    sample = text[:20000]
    printable = sum(1 for c in sample if c.isprintable() or c in "\n\t\r")
    letters = sum(1 for c in sample if c.isalpha())
    return printable >= 0.95 * len(sample) and letters >= 0.4 * len(sample)
