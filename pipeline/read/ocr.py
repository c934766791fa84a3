"""OCR of one page image with Tesseract (French), and of many pages in parallel, one thread each."""

from __future__ import annotations

import csv
import io
import os
import shutil
import statistics
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

from PIL import Image

from pipeline.errors import OcrUnavailable
from pipeline.read.images import Cleaned, PageImage, clean_page
from pipeline.read.layout import Placed, Word, layout

APT_HINT = "sudo apt-get install -y tesseract-ocr tesseract-ocr-fra"
# Tesseract's own threads fight each other when pages run in parallel: one each.
ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}
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
    """Tesseract's words on the image, read from its standard input as an uncompressed PGM and
    told the resolution (else it guesses, and misreads small print)."""
    raw = io.BytesIO()
    cleaned.image.save(raw, "PPM")
    command = ["tesseract", "stdin", "stdout", "-l", "fra", "--dpi", str(cleaned.dpi), "tsv"]
    try:
        done = subprocess.run(command, input=raw.getvalue(), capture_output=True, timeout=timeout, env=ENV)
    except subprocess.TimeoutExpired:
        return []
    return words_of(done.stdout.decode("utf-8", errors="replace"))


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
