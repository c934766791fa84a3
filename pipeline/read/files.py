"""Read an input file into a Document: text files, text-layer PDFs, scanned PDFs and images."""

from __future__ import annotations

import codecs
import difflib
import os
import re
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import EmptyFile, NoText, TooLarge, UnreadableText, UnsupportedFormat
from pipeline.model import Document, Limits, PageInfo, Warning, warning
from pipeline.read.normalise import printed_hyphens

if TYPE_CHECKING:
    from pipeline.read.ocr import OcrPage

TEXT_SUFFIXES = {".txt", ".text"}
PDF_SUFFIXES = {".pdf"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES | IMAGE_SUFFIXES
# Pages whose OCR confidence (0..100) is below this are flagged for review.
LOW_OCR_CONFIDENCE = 60
PAGE_BREAK = "\n\n"
# "é" written as UTF-8 and read as Windows-1252 becomes "Ã©": "Ã" or "Â" then a byte 0x80-0xBF.
MOJIBAKE = re.compile("[ÃÂ][" + re.escape(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")) + "]")
# An image file's stated resolution is trusted between these; else it is taken for an A4 page.
MIN_STATED_DPI, MAX_STATED_DPI = 100, 1200
A4_INCHES = 11.69
# A line at the top (bottom) of OCR'd pages that reads the same on most of them, page numbers
# aside, is a running header (footer): a fax's transmission line, "Page 2 sur 5".
RUNNING_SIMILARITY = 0.8
# How much of a text tells whether it is text, and whether it was decoded twice.
SNIFF_CHARS = 8000
# Characters no text file holds: control codes (bar line breaks and tabs) and decoding failures.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")
# A byte that is not UTF-8, as Python's surrogateescape keeps it.
STRAY_BYTE = re.compile("[\udc80-\udcff]")


@dataclass(slots=True)
class PageText:
    text: str
    method: str
    confidence: float | None = None
    ocr: OcrPage | None = None  # for OCR'd pages: word boxes and a preview of the page
    scan: bool = False  # a PDF page whose words are in its images, to be read by OCR


# A page left unread: the time limit of its file (--max-seconds) was reached.
SKIPPED = PageText("", "skipped")


def read_file(path: Path, limits: Limits = Limits()) -> Document:
    size = checked_size(path, limits)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        if size > limits.max_text_mb * 1e6:
            limit = limits.max_text_mb
            raise TooLarge(
                f"texte de {size / 1e6:.1f} Mo, au-delà de la limite de {limit:g} Mo (--max-text-mb)"
            )
        text, repaired = decode(path.read_bytes())
        fixed = undo_mojibake(text)
        doc = Document(shown(path.name), fixed, [PageInfo(1, 0, "text")], repaired)
        if fixed != text:
            doc.warnings.append(warning("mojibake_repare"))
        return doc
    if suffix in PDF_SUFFIXES:
        return assemble(shown(path.name), read_pdf_pages(path, limits))
    if suffix in IMAGE_SUFFIXES:
        return assemble(shown(path.name), read_image_pages(path, limits))
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


def shown(name: str | Path) -> str:
    """A file name or path as it can be written anywhere (a terminal, a UTF-8 file): bytes
    that are not UTF-8 as \\xNN, control and direction characters as \\uNNNN."""
    text = os.fsencode(name).decode("utf-8", errors="backslashreplace")
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else escaped(char) for char in text)


def escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def decode(raw: bytes) -> tuple[str, list[Warning]]:
    """UTF-8 when it is (a few stray bytes repaired where they are), UTF-16 when it says so or
    looks so, else the most likely legacy encoding (Windows-1252, Latin-1…); with a warning
    for each repair."""
    wide = utf16(raw)
    repairs: list[Warning] = []
    if wide:
        text = raw.decode(wide, errors="replace")
    else:
        text, repairs = narrow(raw)
    if not looks_like_text(text):
        raise UnreadableText("contenu binaire, pas du texte")
    return text.replace("\r\n", "\n").replace("\r", "\n"), repairs


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


def narrow(raw: bytes) -> tuple[str, list[Warning]]:
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    repaired = utf8_repaired(raw)
    if repaired:
        return repaired
    from charset_normalizer import from_bytes

    guess = from_bytes(raw[:2_000_000]).best()
    if guess is None:
        raise UnreadableText("aucun encodage de texte ne convient à ce fichier") from None
    return raw.decode(guess.encoding, errors="replace"), []


def utf8_repaired(raw: bytes) -> tuple[str, list[Warning]] | None:
    """A UTF-8 text with a few bytes that are not (a word pasted from a Windows-1252 text, a
    character cut in two), each read as Windows-1252 where it is; None when the text holds
    fewer accented characters in UTF-8 than stray bytes: it is in another encoding."""
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    stray = STRAY_BYTE.findall(text)
    if sum(1 for char in text if char >= "\x80" and not STRAY_BYTE.match(char)) <= len(stray):
        return None
    fixed = STRAY_BYTE.sub(lambda m: bytes([ord(m[0]) - 0xDC00]).decode("cp1252", errors="replace"), text)
    lines = sorted({text.count("\n", 0, m.start()) + 1 for m in STRAY_BYTE.finditer(text)})
    where = ", ".join(map(str, lines[:5])) + ("…" if len(lines) > 5 else "")
    where = f"ligne{'s' if len(lines) > 1 else ''} {where}"
    return fixed, [warning("octets_invalides", count=len(stray), lines=where)]


def undo_mojibake(text: str) -> str:
    """Text saved once more after being read with the wrong encoding ("dÃ©lÃ©gant"), put back."""
    if len(MOJIBAKE.findall(text[:SNIFF_CHARS])) < 5:
        return text
    for encoding in ("cp1252", "latin-1"):
        try:
            return text.encode(encoding).decode("utf-8")
        except UnicodeError:
            continue
    return text


def looks_like_text(text: str) -> bool:
    sample = text[:SNIFF_CHARS]
    controls = len(CONTROL.findall(sample))
    letters = sum(map(str.isalpha, sample))
    return controls <= 0.05 * len(sample) and letters >= 0.4 * len(sample)


def read_pdf_pages(path: Path, limits: Limits) -> list[PageText]:
    deadline = time.monotonic() + limits.max_seconds
    pages = pdf_text_layers(path, limits, deadline)
    scanned = scanned_pages(pages)
    if scanned:
        for index, result in zip(scanned, ocr_pdf_pages(path, scanned, limits, deadline), strict=True):
            pages[index] = result
    return pages


def pdf_text_layers(path: Path, limits: Limits, deadline: float | None = None) -> list[PageText]:
    """Each page's text layer, the pages to read by OCR marked (see pdf.page_layer). The pages
    the deadline (time.monotonic) leaves are marked skipped."""
    import pypdfium2

    from pipeline.read.pdf import broken, open_pdf, page_layer

    deadline = time.monotonic() + limits.max_seconds if deadline is None else deadline
    pdf = open_pdf(path)
    try:
        count = len(pdf)
        if count > limits.max_pages:
            raise TooLarge(
                f"PDF de {count} pages, au-delà de la limite de {limits.max_pages} pages (--max-pages)"
            )
        pages = []
        for i in range(count):
            if time.monotonic() > deadline:
                pages.append(SKIPPED)
                continue
            layer = page_layer(pdf[i])
            text = with_blocks(pdf[i], layer, limits, deadline) if layer.blocks else layer.text
            pages.append(PageText(text, "text", scan=layer.ocr))
        return pages
    except pypdfium2.PdfiumError as error:
        raise broken(error) from error
    finally:
        pdf.close()


def with_blocks(page, layer, limits: Limits, deadline: float) -> str:
    """A text page's text with its images of print read by OCR, each in its place."""
    from pipeline.read.pdf import block_image, text_with_blocks

    images = [block_image(page, box, limits.dpi, limits.max_pixels) for box in layer.blocks]
    read = [result.text.strip() for result in ocr_results(images, limits, deadline)]
    return text_with_blocks(page, [(box, text) for box, text in zip(layer.blocks, read, strict=True) if text])


def scanned_pages(pages: list[PageText]) -> list[int]:
    """The indexes of the pages to read by OCR."""
    return [i for i, page in enumerate(pages) if page.scan and page.method != "skipped"]


def ocr_pdf_pages(path: Path, indexes: list[int], limits: Limits, deadline: float) -> list[PageText]:
    """The given pages read by OCR, in order; those the deadline leaves are marked skipped."""
    import pypdfium2

    from pipeline.read.pdf import broken, open_pdf, page_image

    pdf = open_pdf(path)
    results: list[PageText] = []
    try:
        # A few pages at a time, so that memory holds no more images than there are workers.
        for chunk in chunks(indexes, limits.ocr_workers):
            if time.monotonic() > deadline:
                results += [SKIPPED] * len(chunk)
                continue
            images = [page_image(pdf[i], limits.dpi, limits.max_pixels) for i in chunk]
            results += ocr_results(images, limits, deadline)
    except pypdfium2.PdfiumError as error:
        raise broken(error) from error
    finally:
        pdf.close()
    return results


def read_image_pages(path: Path, limits: Limits) -> list[PageText]:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    from pipeline.read.images import PageImage, check_pixels

    deadline = time.monotonic() + limits.max_seconds
    pages: list[PageText] = []
    try:
        with warnings.catch_warnings():
            # Pillow's English warning on large images: check_pixels refuses them in French.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            frames = []
            # A few frames at a time, so that memory holds no more images than there are workers.
            for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                if number > limits.max_pages:
                    raise TooLarge(
                        f"image de plus de {limits.max_pages} pages, au-delà de la limite (--max-pages)"
                    )
                # Checked before the frame's pixels are decoded: a small file can hold a huge image.
                check_pixels(*frame.size, limits.max_pixels, "image")
                if time.monotonic() > deadline:  # this page, and those decoded but not read yet
                    pages += [SKIPPED] * (len(frames) + 1)
                    frames = []
                    continue
                frames.append(PageImage(frame.copy(), image_dpi(frame)))
                if len(frames) == max(1, limits.ocr_workers):
                    pages += ocr_results(frames, limits, deadline)
                    frames = []
            pages += ocr_results(frames, limits, deadline) if frames else []
    except Image.DecompressionBombError:
        raise TooLarge(
            f"image de plus de {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} millions de pixels (bombe de"
            f" décompression), au-delà de la limite de {limits.max_pixels / 1e6:g} millions (--max-pixels)"
        ) from None
    except ValueError as error:
        if "decompressed data too large" in str(error).lower():
            raise TooLarge("image aux données compressées démesurées (bombe de décompression)") from None
        raise UnreadableText("image illisible : son décodage a échoué") from error
    except UnidentifiedImageError as error:
        raise UnreadableText("image illisible : format d'image non reconnu") from error
    except (OSError, SyntaxError) as error:
        reason = "le fichier est tronqué" if "truncated" in str(error) else "son décodage a échoué"
        raise UnreadableText(f"image illisible : {reason}") from error
    return pages


def image_dpi(frame) -> int:
    """The resolution the image file states, else the one that makes it an A4 page."""
    stated = frame.info.get("dpi")
    if stated and MIN_STATED_DPI <= float(stated[0]) <= MAX_STATED_DPI:
        return round(float(stated[0]))
    return max(MIN_STATED_DPI, round(max(frame.size) / A4_INCHES))


def ocr_results(images: list, limits: Limits, deadline: float) -> list[PageText]:
    from pipeline.read.ocr import ocr_pages

    timeout = max(1.0, deadline - time.monotonic())
    return [PageText(p.text, "ocr", p.confidence, p) for p in ocr_pages(images, limits.ocr_workers, timeout)]


def chunks(items: list, size: int) -> list[list]:
    size = max(1, size)
    return [items[i : i + size] for i in range(0, len(items), size)]


def assemble(source: str, pages: list[PageText]) -> Document:
    pages = without_running_lines(pages)
    parts, infos, offset, warnings, scans = [], [], 0, [], {}
    for number, page in enumerate(pages, start=1):
        infos.append(PageInfo(number, offset, page.method, page.confidence))
        parts.append(page.text)
        offset += len(page.text) + len(PAGE_BREAK)
        warnings += page_warnings(number, page)
        if page.ocr is not None:
            scans[number] = page.ocr
    text = printed_hyphens(PAGE_BREAK.join(parts))
    if not text.strip() and any(page.method == "skipped" for page in pages):
        raise NoText("aucun texte lu avant la limite de temps par fichier (--max-seconds)")
    if not text.strip():
        raise NoText("aucun texte trouvé : pages blanches ou numérisation illisible")
    return Document(source, text, infos, warnings, scans=scans)


def without_running_lines(pages: list[PageText]) -> list[PageText]:
    """OCR'd pages without the header and footer lines that repeat on most of them."""
    read = [i for i, page in enumerate(pages) if page.ocr is not None and page.text.strip()]
    if len(read) < 2:
        return pages
    pages = list(pages)
    for end in ("first", "last"):
        lines = {i: edge_line(pages[i].text, end) for i in read}
        for i in read:
            keys = [running_key(lines[j]) for j in read if j != i]
            key = running_key(lines[i])
            alike = sum(1 for other in keys if similar(key, other))
            if key and alike + 1 >= max(2, (len(read) + 1) // 2):
                pages[i] = cut_line(pages[i], end)
    return pages


def edge_line(text: str, end: str) -> str:
    lines = [line for line in text.split("\n") if line.strip()]
    return (lines[0] if end == "first" else lines[-1]) if lines else ""


def running_key(line: str) -> str:
    return re.sub(r"\d", "#", " ".join(line.lower().split()))


def similar(a: str, b: str) -> bool:
    return bool(a and b) and difflib.SequenceMatcher(None, a, b).ratio() >= RUNNING_SIMILARITY


def cut_line(page: PageText, end: str) -> PageText:
    """The page without its first (last) line, its words' offsets moved to match."""
    text = page.text
    if end == "first":
        head = len(text) - len(text.lstrip())
        stop = text.find("\n", head)
        stop = len(text) if stop < 0 else stop
        cut = stop + len(text[stop:]) - len(text[stop:].lstrip())
        kept, shift, limit = text[cut:], cut, (cut, len(text))
    else:
        body = text.rstrip()
        start = body.rfind("\n") + 1
        kept, shift, limit = body[:start], 0, (0, start)
    words = tuple(
        replace(w, start=w.start - shift, end=w.end - shift)
        for w in page.ocr.words
        if limit[0] <= w.start and w.end <= limit[1]
    )
    return replace(page, text=kept, ocr=replace(page.ocr, words=words, text=kept))


def page_warnings(number: int, page: PageText) -> list[Warning]:
    if page.method == "skipped":
        return [warning("page_non_lue", page=number)]
    if page.method == "ocr" and not page.text.strip():
        return [warning("page_sans_texte", page=number)]
    if page.confidence is not None and page.confidence < LOW_OCR_CONFIDENCE:
        return [warning("ocr_peu_sur", page=number, confidence=page.confidence)]
    return []
