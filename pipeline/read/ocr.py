"""OCR with Tesseract (French), one thread per page and pages in parallel across cores."""

from __future__ import annotations

import os
import shutil
import statistics
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytesseract
from PIL import Image

from pipeline.errors import OcrUnavailable

APT_HINT = "sudo apt-get install -y tesseract-ocr tesseract-ocr-fra"
# A gap between two words wider than this many line heights separates table cells.
CELL_GAP = 1.2
# What Tesseract reads a table's vertical rules as; a word made only of these is no word.
RULES = " |[]!¦"
# A line of a ragged paragraph may end this many characters short of the page's widest line.
RAGGED_CHARS = 2


@dataclass(frozen=True, slots=True)
class OcrPage:
    text: str
    confidence: float | None  # Tesseract's mean word confidence, 0..100


def check_tesseract() -> None:
    if not shutil.which("tesseract"):
        raise OcrUnavailable(f"Tesseract n'est pas installé : lancer « {APT_HINT} »")
    if "fra" not in pytesseract.get_languages():
        raise OcrUnavailable(f"Tesseract n'a pas les données du français : lancer « {APT_HINT} »")


def ocr_images(images: list[Image.Image], workers: int, timeout: float) -> list[OcrPage]:
    """OCR each image; Tesseract's own threads fight each other, so each runs on one."""
    check_tesseract()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    with ThreadPoolExecutor(max(1, workers)) as pool:
        return list(pool.map(lambda image: ocr_image(image, timeout), images))


def ocr_image(image: Image.Image, timeout: float) -> OcrPage:
    try:
        data = pytesseract.image_to_data(
            image.convert("L"), lang="fra", output_type=pytesseract.Output.DICT, timeout=timeout
        )
    except RuntimeError:  # pytesseract's timeout
        return OcrPage("", None)
    words = [
        Word(text, data["left"][i], data["left"][i] + data["width"][i], data["height"][i], float(conf), key)
        for i, (text, conf) in enumerate(zip(data["text"], data["conf"], strict=True))
        if text.strip() and float(conf) >= 0
        for key in [(data["block_num"][i], data["par_num"][i], data["line_num"][i])]
    ]
    confidences = [w.confidence for w in words]
    return OcrPage(layout(words), statistics.fmean(confidences) if confidences else None)


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    left: int
    right: int
    height: int
    confidence: float
    line: tuple[int, int, int]  # block, paragraph, line


def layout(words: list[Word]) -> str:
    """Lines of words, wrapped lines of a paragraph joined, tables as tab-separated columns."""
    lines: dict[tuple, list[Word]] = {}
    for word in words:
        if word.text.strip(RULES):
            lines.setdefault(word.line, []).append(word)
    if not lines:
        return ""
    margin = max(w.right for w in words)
    out: list[str] = []
    previous = None
    for block in blocks_of(list(lines.items())):
        if len(block) > 1 or len(block[0][2]) > 1:
            out += table_rows([row for _, _, row in block])
            previous = None
            continue
        key, line, _ = block[0]
        text = " ".join(w.text for w in line)
        same_paragraph = previous and previous[0][:2] == key[:2]
        if same_paragraph and wrapped(previous[1], line[0], margin):
            out[-1] += " " + text
        else:
            if previous and not same_paragraph:
                out.append("")
            out.append(text)
        previous = (key, line)
    return "\n".join(out) + "\n"


def wrapped(line: list[Word], next_word: Word, margin: int) -> bool:
    """The line was wrapped when the next line's first word would have fitted on it."""
    char_width = (line[-1].right - line[0].left) / max(sum(len(w.text) + 1 for w in line), 1)
    return line[-1].right + char_width * (len(next_word.text) + 1 + RAGGED_CHARS) > margin


def blocks_of(lines: list[tuple[tuple, list[Word]]]) -> list[list[tuple[tuple, list[Word], list]]]:
    """Runs of consecutive lines split into cells form one table, with the lines of wrapped
    cells: those under it that sit right of its first column, and one-cell lines between two of
    its rows. Other lines stand alone. Each line comes with its cells."""
    cells = [cells_of(line) for _, line in lines]
    blocks: list[list[int]] = []
    for index, row in enumerate(cells):
        table = blocks and len(cells[blocks[-1][0]]) > 1
        inside = index + 1 < len(cells) and len(cells[index + 1]) > 1
        if table and (len(row) > 1 or inside or right_of_first_column(row, [cells[i] for i in blocks[-1]])):
            blocks[-1].append(index)
        else:
            blocks.append([index])
    return [[(*lines[i], cells[i]) for i in block] for block in blocks]


def right_of_first_column(row: list[list[Word]], table: list[list[list[Word]]]) -> bool:
    return row[0][0].left > column_bounds(table)[0]


def cells_of(line: list[Word]) -> list[list[Word]]:
    """The line's words grouped into cells: a gap wider than CELL_GAP line heights splits them."""
    height = statistics.median(w.height for w in line)
    cells = [[line[0]]]
    for before, word in zip(line, line[1:], strict=False):
        if word.left - before.right > CELL_GAP * height:
            cells.append([word])
        else:
            cells[-1].append(word)
    return cells


def column_bounds(rows: list[list[list[Word]]]) -> list[float]:
    """Where one column ends and the next begins, from the row with the most cells."""
    widest = max(rows, key=len)
    centres = [(cell[0].left + cell[-1].right) / 2 for cell in widest]
    return [(a + b) / 2 for a, b in zip(centres, centres[1:], strict=False)]


def table_rows(rows: list[list[list[Word]]]) -> list[str]:
    """Each row's cells put in the columns of the widest row, so empty cells keep their place;
    a row with nothing in its first column, or nothing but it, continues the row above (its
    cells wrapped)."""
    bounds = column_bounds(rows)
    table: list[list[str]] = []
    for row in rows:
        columns = [""] * (len(bounds) + 1)
        for cell in row:
            index = sum(1 for bound in bounds if (cell[0].left + cell[-1].right) / 2 > bound)
            columns[index] = f"{columns[index]} {' '.join(w.text for w in cell)}".strip()
        continued = not columns[0] or not any(columns[1:])
        if table and continued and table[-1][0]:
            table[-1] = [f"{above} {below}".strip() for above, below in zip(table[-1], columns, strict=True)]
        else:
            table.append(columns)
    return ["\t".join(columns) for columns in table]
