"""Synthetic documents for the tests and the benchmark, built from convention texts.

PDFs: text lines are wrapped to the page width; runs of tab-separated lines become ruled
tables; a scan is the same layout drawn into a 300-dpi image, slightly rotated and noisy,
wrapped as an image-only PDF. Variants: the same conventions with other names, codes, amounts
and dates, so that no two are identical.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import reportlab
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT_FILE = os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf")
FONT = "Vera"
SIZE = 10
LEADING = 13
MARGIN = 56
WIDTH, HEIGHT = A4
USABLE = WIDTH - 2 * MARGIN
DPI = 300

pdfmetrics.registerFont(TTFont(FONT, FONT_FILE))


@dataclass
class Row:
    cells: list[list[str]]  # one cell for a line of text; several for a table row
    height: float


@dataclass
class Page:
    rows: list[tuple[float, Row]] = field(default_factory=list)  # (top in points, row)
    lines: list[str] = field(default_factory=list)  # the source lines laid out on this page


def table_cells(line: str, columns: int) -> list[list[str]]:
    parts = line.split("\t") + [""] * (columns - line.count("\t") - 1)
    return [simpleSplit(part, FONT, SIZE, USABLE / columns - 6) or [""] for part in parts]


def rows_of(text: str) -> list[tuple[Row, str]]:
    rows, lines = [], text.split("\n")
    index = 0
    while index < len(lines):
        if "\t" in lines[index]:
            block = []
            while index < len(lines) and "\t" in lines[index]:
                block.append(lines[index])
                index += 1
            columns = max(line.count("\t") + 1 for line in block)
            for line in block:
                cells = table_cells(line, columns)
                rows.append((Row(cells, max(len(c) for c in cells) * LEADING + 4), line))
            continue
        line = lines[index].replace("*", "")
        wrapped = simpleSplit(line, FONT, SIZE, USABLE) if line.strip() else []
        rows += [(Row([[part]], LEADING), lines[index]) for part in wrapped] or [
            (Row([[""]], LEADING / 2), "")
        ]
        index += 1
    return rows


def paginate(text: str) -> list[Page]:
    pages, top = [Page()], MARGIN
    for row, source in rows_of(text):
        if top + row.height > HEIGHT - MARGIN:
            pages.append(Page())
            top = MARGIN
        pages[-1].rows.append((top, row))
        pages[-1].lines.append(source)
        top += row.height
    return pages


def make_pdf(
    text: str, path: Path, scanned: Callable[[int], bool] = lambda number: False, tail: str = ""
) -> list[Page]:
    """A PDF of the text; the pages for which `scanned(number)` holds are images only; `tail`, a
    line alone on a last page of its own ("Référence interne : 12")."""
    pages = paginate(text)
    if tail:
        pages.append(Page([(MARGIN, Row([[tail]], LEADING))], [tail]))
    rng = random.Random(len(text))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    for number, page in enumerate(pages, start=1):
        if scanned(number):
            pdf.drawImage(ImageReader(scan_image(page, rng)), 0, 0, WIDTH, HEIGHT)
        else:
            for top, row in page.rows:
                draw_row_pdf(pdf, top, row)
        pdf.showPage()
    pdf.save()
    return pages


def text_pdf(text: str, path: Path, tail: str = "") -> list[Page]:
    return make_pdf(text, path, tail=tail)


def scanned_pdf(text: str, path: Path) -> list[Page]:
    return make_pdf(text, path, scanned=lambda number: True)


def draw_row_pdf(pdf, top: float, row: Row) -> None:
    pdf.setFont(FONT, SIZE)
    if len(row.cells) == 1:
        pdf.drawString(MARGIN, HEIGHT - top - SIZE, row.cells[0][0])
        return
    width = USABLE / len(row.cells)
    for column, cell in enumerate(row.cells):
        x = MARGIN + column * width
        pdf.rect(x, HEIGHT - top - row.height, width, row.height)
        for number, part in enumerate(cell):
            pdf.drawString(x + 3, HEIGHT - top - SIZE - 2 - number * LEADING, part)


def scan_image(page: Page, rng: random.Random) -> Image.Image:
    scale = DPI / 72
    image = Image.new("L", (int(WIDTH * scale), int(HEIGHT * scale)), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT_FILE, int(SIZE * scale))
    for top, row in page.rows:
        width = USABLE / len(row.cells)
        for column, cell in enumerate(row.cells):
            x = MARGIN + column * width
            if len(row.cells) > 1:
                draw.rectangle(
                    [x * scale, top * scale, (x + width) * scale, (top + row.height) * scale], outline=0
                )
            for number, part in enumerate(cell):
                position = (
                    (x + (3 if len(row.cells) > 1 else 0)) * scale,
                    (top + 2 + number * LEADING) * scale,
                )
                draw.text(position, part, font=font, fill=0)
    image = image.rotate(rng.uniform(-0.8, 0.8), fillcolor=255, resample=Image.BICUBIC)
    return add_noise(image, rng)


def add_noise(image: Image.Image, rng: random.Random) -> Image.Image:
    pixels = image.load()
    width, height = image.size
    for _ in range(width * height // 800):
        pixels[rng.randrange(width), rng.randrange(height)] = rng.choice((0, 90, 180))
    return image


FIRST_NAMES = [
    "Nadi",
    "Nicolas",
    "Hélène",
    "Cécile",
    "Bruno",
    "Laurent",
    "Marc",
    "Claire",
    "Jean",
    "Sophie",
    "Paul",
    "Anne",
    "Pierre",
    "Julie",
    "Thomas",
    "Isabelle",
    "Michel",
    "Nathalie",
]
AMOUNT = re.compile(r"\b\d{1,3}(?: \d{3})+(?= ?€)")
UO = re.compile(r"\b0(\d{3})-([A-Z]{4})-([A-Z0-9]{4})\b")
DATE = re.compile(r"\b(\d{2})/(\d{2})/(20\d\d)\b")
NAME = re.compile(r"\b(" + "|".join(FIRST_NAMES) + r")\b")


def variant(text: str, rng: random.Random) -> str:
    """The same convention with other first names, UO codes, amounts and dates."""
    names = dict(zip(FIRST_NAMES, rng.sample(FIRST_NAMES, len(FIRST_NAMES)), strict=True))
    letters = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))
    text = NAME.sub(lambda m: names[m[1]], text)
    text = UO.sub(lambda m: f"0{m[1]}-{letters}-{m[3]}", text)
    text = AMOUNT.sub(lambda m: f"{rng.randint(1, 900)} {rng.randint(0, 999):03d}", text)
    return DATE.sub(lambda m: f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{m[3]}", text)


def corpus(texts: list[str], folder: Path, count: int, seed: int = 0) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"convention_{index:05d}.txt"
        path.write_text(
            f"{variant(texts[index % len(texts)], rng)}\nRéférence interne {index}\n", encoding="utf-8"
        )
        paths.append(path)
    return paths
