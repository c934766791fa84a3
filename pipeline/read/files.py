"""Read an input file into a Document: text files, text-layer PDFs, scanned PDFs and images."""

from __future__ import annotations

import codecs
import re
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import BrokenPdf, EmptyFile, NoText, TooLarge, UnreadableText, UnsupportedFormat
from pipeline.model import Document, Limits, PageInfo

TEXT_SUFFIXES = {".txt", ".text"}
PDF_SUFFIXES = {".pdf"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES | IMAGE_SUFFIXES
# A PDF page with fewer characters than this in its text layer is a scan, read by OCR.
MIN_PAGE_CHARS = 40
# Pages whose OCR confidence (0..100) is below this are flagged for review.
LOW_OCR_CONFIDENCE = 60
PAGE_BREAK = "\n\n"
# "é" written as UTF-8 and read as Windows-1252 becomes "Ã©": "Ã" or "Â" then a byte 0x80-0xBF.
MOJIBAKE = re.compile("[ÃÂ][" + re.escape(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")) + "]")
# Characters no text file holds: control codes (bar line breaks and tabs) and decoding failures.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")


@dataclass(slots=True)
class PageText:
    text: str
    method: str
    confidence: float | None = None


def read_file(path: Path, limits: Limits = Limits()) -> Document:
    size = checked_size(path, limits)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        if size > limits.max_text_mb * 1e6:
            limit = limits.max_text_mb
            raise TooLarge(
                f"texte de {size / 1e6:.1f} Mo, au-delà de la limite de {limit:g} Mo (--max-text-mb)"
            )
        text = decode(path.read_bytes())
        fixed = undo_mojibake(text)
        doc = Document(path.name, fixed, [PageInfo(1, 0, "text")])
        if fixed != text:
            doc.warnings.append(
                "texte réparé : il avait été enregistré en UTF-8 lu comme du Windows-1252 (« Ã© » pour « é »)"
            )
        return doc
    if suffix in PDF_SUFFIXES:
        return assemble(path.name, read_pdf_pages(path, limits))
    if suffix in IMAGE_SUFFIXES:
        return assemble(path.name, read_image_pages(path, limits))
    raise UnsupportedFormat(f"type de fichier non pris en charge : « {suffix} »")


def checked_size(path: Path, limits: Limits) -> int:
    size = path.stat().st_size
    if size == 0:
        raise EmptyFile("fichier vide")
    if size > limits.max_mb * 1e6:
        raise TooLarge(
            f"fichier de {size / 1e6:.1f} Mo, au-delà de la limite de {limits.max_mb:g} Mo (--max-mb)"
        )
    return size


def decode(raw: bytes) -> str:
    """UTF-8 when it is, UTF-16 when it says so or looks so, else the most likely legacy
    encoding (Windows-1252, Latin-1…)."""
    wide = utf16(raw)
    if wide:
        text = raw.decode(wide, errors="replace")
    elif b"\x00" in raw[:4096]:
        raise UnreadableText("contenu binaire, pas du texte")
    else:
        text = narrow(raw)
    if not looks_like_text(text):
        raise UnreadableText("contenu binaire, pas du texte")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def utf16(raw: bytes) -> str | None:
    """The UTF-16 codec of a text saved with its byte order mark, or without one but with a
    zero byte beside nearly every character (Latin script: high bytes are zero)."""
    if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = raw[:4096]
    even, odd = sample[0::2], sample[1::2]
    if len(odd) < 8:
        return None
    if odd.count(0) >= 0.7 * len(odd) and even.count(0) <= 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.7 * len(even) and odd.count(0) <= 0.05 * len(odd):
        return "utf-16-be"
    return None


def narrow(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        guess = from_bytes(raw[:2_000_000]).best()
        if guess is None:
            raise UnreadableText("aucun encodage de texte ne convient à ce fichier") from None
        return raw.decode(guess.encoding, errors="replace")


def undo_mojibake(text: str) -> str:
    """Text saved once more after being read with the wrong encoding ("dÃ©lÃ©gant"), put back."""
    if len(MOJIBAKE.findall(text[:20000])) < 5:
        return text
    for encoding in ("cp1252", "latin-1"):
        try:
            return text.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
    return text


def looks_like_text(text: str) -> bool:
    sample = text[:20000]
    controls = len(CONTROL.findall(sample))
    letters = sum(map(str.isalpha, sample))
    return controls <= 0.05 * len(sample) and letters >= 0.4 * len(sample)


def read_pdf_pages(path: Path, limits: Limits) -> list[PageText]:
    deadline = time.monotonic() + limits.max_seconds
    pages = pdf_text_layers(path, limits)
    scanned = scanned_pages(pages)
    if scanned:
        for index, result in zip(scanned, ocr_pdf_pages(path, scanned, limits, deadline), strict=True):
            pages[index] = result
    return pages


def pdf_text_layers(path: Path, limits: Limits) -> list[PageText]:
    """Each page's text layer; scanned pages have little or none (see scanned_pages)."""
    from pipeline.read.pdf import open_pdf, page_text

    with open_pdf(path) as pdf:
        count = len(pdf.pages)
        if count > limits.max_pages:
            raise TooLarge(
                f"PDF de {count} pages, au-delà de la limite de {limits.max_pages} pages (--max-pages)"
            )
        pages = []
        for page in pdf.pages:
            pages.append(PageText(page_text(page), "text"))
            page.close()
    return pages


def scanned_pages(pages: list[PageText]) -> list[int]:
    """The indexes of the pages to read by OCR."""
    return [i for i, page in enumerate(pages) if len(page.text.strip()) < MIN_PAGE_CHARS]


def ocr_pdf_pages(path: Path, indexes: list[int], limits: Limits, deadline: float) -> list[PageText]:
    import pypdfium2

    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as error:
        raise BrokenPdf(f"PDF endommagé : {error}") from error
    results: list[PageText] = []
    try:
        for chunk in chunks(indexes, limits.ocr_workers):
            if time.monotonic() > deadline:
                results += [PageText("", "skipped") for _ in chunk]
                continue
            images = [pdf[i].render(scale=limits.dpi / 72, grayscale=True).to_pil() for i in chunk]
            results += ocr_results(images, limits, deadline)
    finally:
        pdf.close()
    return results


def read_image_pages(path: Path, limits: Limits) -> list[PageText]:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError) as error:
        raise UnreadableText(f"image illisible : {error}") from error
    if len(frames) > limits.max_pages:
        raise TooLarge(
            f"image de {len(frames)} pages, au-delà de la limite de {limits.max_pages} pages (--max-pages)"
        )
    return ocr_results(frames, limits, time.monotonic() + limits.max_seconds)


def ocr_results(images: list, limits: Limits, deadline: float) -> list[PageText]:
    from pipeline.read.ocr import ocr_images

    timeout = max(1.0, deadline - time.monotonic())
    return [PageText(p.text, "ocr", p.confidence) for p in ocr_images(images, limits.ocr_workers, timeout)]


def chunks(items: list, size: int) -> list[list]:
    size = max(1, size)
    return [items[i : i + size] for i in range(0, len(items), size)]


def assemble(source: str, pages: list[PageText]) -> Document:
    parts, infos, offset, warnings = [], [], 0, []
    for number, page in enumerate(pages, start=1):
        infos.append(PageInfo(number, offset, page.method, page.confidence))
        parts.append(page.text)
        offset += len(page.text) + len(PAGE_BREAK)
        warnings += page_warnings(number, page)
    text = PAGE_BREAK.join(parts)
    if not text.strip():
        raise NoText("aucun texte trouvé : pages blanches ou numérisation illisible")
    return Document(source, text, infos, warnings)


def page_warnings(number: int, page: PageText) -> list[str]:
    if page.method == "skipped":
        return [f"page {number} not read: the time limit per file (--max-seconds) was reached"]
    if page.method == "ocr" and not page.text.strip():
        return [f"page {number}: OCR found no text"]
    if page.confidence is not None and page.confidence < LOW_OCR_CONFIDENCE:
        return [f"page {number}: low OCR confidence ({page.confidence:.0f}/100), check its values"]
    return []
