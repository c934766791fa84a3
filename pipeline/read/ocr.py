"""OCR of one page image with Tesseract (French), and of many pages in parallel, one thread each."""

from __future__ import annotations

import csv
import io
import os
import shutil
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
from PIL import Image

from pipeline.errors import OcrUnavailable
from pipeline.read.images import Cleaned, PageImage, clean_page, ink_mask
from pipeline.read.layout import Placed, Word, layout

APT_HINT = "sudo apt-get install -y tesseract-ocr tesseract-ocr-fra"
# Tesseract's own threads fight each other when pages run in parallel: one each.
ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}
# Lines Tesseract returns no word for (its page analysis took the dirt around them for a
# picture): bands of rows with ink across MISSED_INK of the page's width and none of its words,
# MISSED_HEIGHT line heights tall, read again on their own as plain lines.
MISSED_INK = 0.01
MISSED_HEIGHT = (0.5, 4.0)
MISSED_PAD = 0.3
# Blocks of words read again are numbered from here, apart from Tesseract's own.
REREAD_BLOCK = 10_000
# The page kept for crops of its evidence: enough to read print, a few hundred kB a page.
PREVIEW_DPI = 150
PREVIEW_QUALITY = 60


@dataclass(frozen=True, slots=True)
class OcrPage:
    text: str
    confidence: float | None  # Tesseract's mean word confidence, 0..100
    words: tuple[Placed, ...] = ()  # each word's offsets in text and box on the cleaned image
    size: tuple[int, int] = (0, 0)  # the cleaned image's width and height, in pixels
    dpi: int = 0
    steps: tuple[str, ...] = ()  # clean-up steps applied before OCR
    preview: bytes = b""  # the cleaned page as a small grey JPEG, for crops of its evidence


@cache
def check_tesseract() -> None:
    if not shutil.which("tesseract"):
        raise OcrUnavailable(f"Tesseract n'est pas installé : lancer « {APT_HINT} »")
    listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, env=ENV)
    if "fra" not in listed.stdout.split():
        raise OcrUnavailable(f"Tesseract n'a pas les données du français : lancer « {APT_HINT} »")


def ocr_pages(
    pages: list[PageImage], workers: int, timeout: float, keep_images: bool = False
) -> list[OcrPage]:
    """OCR each page, several at a time."""
    check_tesseract()
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return list(pool.map(lambda page: ocr_page(page, timeout, keep_images), pages))


def ocr_page(page: PageImage, timeout: float, keep_image: bool = False) -> OcrPage:
    """One page image as text, with its words' boxes: cleaned up, then read by Tesseract."""
    cleaned = clean_page(page)
    words = recognise(cleaned, timeout)
    text, placed = layout(words, cleaned.image.width)
    confidences = [w.confidence for w in words]
    return OcrPage(
        text,
        statistics.fmean(confidences) if confidences else None,
        tuple(placed),
        cleaned.image.size,
        cleaned.dpi,
        cleaned.steps,
        preview(cleaned),
    )


def preview(cleaned: Cleaned) -> bytes:
    scale = min(1.0, PREVIEW_DPI / cleaned.dpi)
    image = cleaned.image
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.BILINEAR)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=PREVIEW_QUALITY)
    return out.getvalue()


def recognise(cleaned: Cleaned, timeout: float) -> list[Word]:
    """Tesseract's words on the page, with those of the lines it skipped read again."""
    deadline = time.monotonic() + timeout
    words = tesseract(cleaned.image, cleaned.dpi, timeout)
    bands = missed_bands(cleaned.image, words)
    if not bands:
        return words
    return with_reread(words, reread(cleaned, bands, deadline - time.monotonic()))


def tesseract(image: Image.Image, dpi: int, timeout: float, *options: str) -> list[Word]:
    """Tesseract's words on the image, read from its standard input as an uncompressed PGM and
    told the resolution (else it guesses, and misreads small print)."""
    if timeout <= 0:
        return []
    raw = io.BytesIO()
    image.save(raw, "PPM")
    command = ["tesseract", "stdin", "stdout", "-l", "fra", "--dpi", str(dpi), *options, "tsv"]
    try:
        done = subprocess.run(command, input=raw.getvalue(), capture_output=True, timeout=timeout, env=ENV)
    except subprocess.TimeoutExpired:
        return []
    return words_of(done.stdout.decode("utf-8", errors="replace"))


def missed_bands(image: Image.Image, words: list[Word]) -> list[tuple[int, int]]:
    """The bands of rows (top, bottom) that hold a line of print and none of the words."""
    if not words:
        return []
    from scipy import ndimage

    ink = ink_mask(np.asarray(image))
    height = statistics.median(w.height for w in words)
    covered = np.zeros(len(ink), bool)
    for word in words:
        covered[word.top : word.bottom] = True
    rows = (ink.sum(axis=1) > MISSED_INK * ink.shape[1]) & ~covered
    labels, _ = ndimage.label(rows)
    pad = round(MISSED_PAD * height)
    bands = []
    for (band,) in ndimage.find_objects(labels):
        if MISSED_HEIGHT[0] * height <= band.stop - band.start <= MISSED_HEIGHT[1] * height:
            top, bottom = band.start, band.stop
            while top > max(0, band.start - pad) and not covered[top - 1]:
                top -= 1
            while bottom < min(len(ink), band.stop + pad) and not covered[bottom]:
                bottom += 1
            bands.append((top, bottom))
    return bands


def reread(cleaned: Cleaned, bands: list[tuple[int, int]], timeout: float) -> list[Word]:
    """The bands stacked on one image, a blank line apart, read as plain lines (Tesseract's
    page analysis is what skipped them), their words put back at their place on the page."""
    gap = max(bottom - top for top, bottom in bands)
    stack = Image.new("L", (cleaned.image.width, sum(b - t for t, b in bands) + gap * (len(bands) + 1)), 255)
    offsets = []
    y = gap
    for top, bottom in bands:
        stack.paste(cleaned.image.crop((0, top, cleaned.image.width, bottom)), (0, y))
        offsets.append((y, y + bottom - top, top))
        y += bottom - top + gap
    words = []
    for word in tesseract(stack, cleaned.dpi, timeout, "--psm", "6"):
        middle = (word.top + word.bottom) / 2
        for index, (start, end, top) in enumerate(offsets):
            if start <= middle < end:
                shift = top - start
                words.append(
                    replace(
                        word,
                        top=word.top + shift,
                        bottom=word.bottom + shift,
                        line=(REREAD_BLOCK + index, 1, word.line[2]),
                    )
                )
    return words


def with_reread(words: list[Word], reread: list[Word]) -> list[Word]:
    """The words read again put among Tesseract's, before the first line below them."""
    merged = list(words)
    for block in sorted({w.line[0] for w in reread}):
        band = [w for w in reread if w.line[0] == block]
        top = min(w.top for w in band)
        at = next((i for i, w in enumerate(merged) if w.top > top and w.line[0] < REREAD_BLOCK), len(merged))
        merged[at:at] = band
    return merged


def words_of(tsv: str) -> list[Word]:
    rows = csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    words = []
    for row in rows:
        text = (row.get("text") or "").strip()
        if row["level"] != "5" or not text or float(row["conf"]) < 0:
            continue
        left, top = int(row["left"]), int(row["top"])
        words.append(
            Word(
                text,
                left,
                top,
                left + int(row["width"]),
                top + int(row["height"]),
                float(row["conf"]),
                (int(row["block_num"]), int(row["par_num"]), int(row["line_num"])),
            )
        )
    return words
