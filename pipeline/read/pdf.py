"""PDFs with pypdfium2: text layers as lines (wrapped lines joined, columns apart), ruled tables
as tab-separated rows found from the drawn rules, whether a page is read from its text layer or by
OCR, and the image of a scanned page."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pypdfium2
import pypdfium2.raw as pdfium_c

from pipeline.errors import BrokenPdf, EncryptedPdf, TooLarge
from pipeline.read.images import PageImage, check_pixels, header_size

# Two lines further apart than this many line heights are in different paragraphs.
PARAGRAPH_GAP = 0.8
# Two runs of text on one line further apart than this many line heights are two columns.
COLUMN_GAP = 1.5
# A page is set in two columns when at least this many of its lines, and this share of them,
# have such a gap at the same place (within GUTTER_SLACK of the page's width): signature blocks
# side by side, a few lines, stay rows.
COLUMN_LINES = 8
COLUMN_SHARE = 0.6
GUTTER_SLACK = 0.04
# A drawn path thinner than this (points) is a rule; rules closer than RULE_MERGE are one.
RULE_WIDTH = 2.0
RULE_MERGE = 1.5
# A scan below this resolution, once fitted to the pixel limit, cannot be read.
MIN_DPI = 70
# An image covering this share of the page is the page's scan.
SCAN_COVER = 0.85
# Images' share of the page is measured on a grid of this many cells a side.
COVER_GRID = 64
# A text layer is read as it is when this share of its characters are readable (not the U+FFFD,
# private-use glyphs and control codes of a font PDFium cannot map to letters) and this share of
# its words hold a vowel (a font mapped to the wrong letters gives "Tqfrx Ljpm").
READABLE_CHARS = 0.9
WORDLIKE = 0.6
VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüÿæœAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŸÆŒ")
# Over a scan of the whole page, a text layer is the scan's own reading (a scanner's OCR layer)
# when its lines span this share of the page's height; less is a few words written over it.
LAYER_SPREAD = 0.3
# On a text page, an image no text runs over is read by OCR when it is as large as a pasted
# block of print (a scanned signature block, an annex table): this share of the page's width and
# this many points tall. A signature or a stamp, smaller, holds no words a record needs.
BLOCK_WIDTH = 0.4
BLOCK_HEIGHT = 40.0
# What PDFium's error codes mean, said to the user.
PDFIUM_ERRORS = {
    pdfium_c.FPDF_ERR_FILE: "le fichier n'a pas pu être ouvert",
    pdfium_c.FPDF_ERR_FORMAT: "ce n'est pas un PDF, ou sa structure est abîmée",
    pdfium_c.FPDF_ERR_SECURITY: "sa protection n'est pas prise en charge",
    pdfium_c.FPDF_ERR_PAGE: "une page est introuvable ou abîmée",
}


@dataclass(frozen=True, slots=True)
class Item:
    top: float  # from the top of the page, in points
    text: str
    left: float | None = None  # None for table rows, which are never joined
    right: float | None = None
    bottom: float | None = None
    gap: float | None = None  # where the text after its one wide gap starts, for a line of two columns


@dataclass(frozen=True, slots=True)
class Box:
    left: float
    bottom: float
    right: float
    top: float  # PDF coordinates: y grows upwards

    def centre_in(self, other: Box) -> bool:
        x, y = (self.left + self.right) / 2, (self.bottom + self.top) / 2
        return other.left <= x <= other.right and other.bottom <= y <= other.top


def open_pdf(path) -> pypdfium2.PdfDocument:
    try:
        pdf = pypdfium2.PdfDocument(str(path))
    except pypdfium2.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise EncryptedPdf("PDF chiffré : il faut un mot de passe pour le lire") from error
        raise broken(error) from error
    if len(pdf) == 0:
        pdf.close()
        raise BrokenPdf("PDF endommagé : il n'a aucune page")
    return pdf


def broken(error: Exception) -> BrokenPdf:
    """The error PDFium (or the code reading its objects) raised, told in French."""
    reason = PDFIUM_ERRORS.get(getattr(error, "err_code", None), "sa lecture a échoué")
    return BrokenPdf(f"PDF endommagé : {reason}")


@dataclass(frozen=True, slots=True)
class Layer:
    text: str  # the text layer, in reading order
    ocr: bool  # the page's words are in its images or drawings, to be read by OCR
    blocks: tuple[Box, ...] = ()  # on a text page, the images of print to read by OCR


def page_layer(page: pypdfium2.PdfPage) -> Layer:
    """The page's text layer, and whether the page is read by OCR instead: decided from what the
    page holds (images' share of its area, the text layer's quality), never from how much text
    it has. A text page, however short, keeps its text layer, whatever images it holds; a page
    with no readable text but images or drawings is OCR'd; a blank page is neither."""
    height = page.get_height()
    textpage = page.get_textpage()
    try:
        runs = [Box(*textpage.get_rect(i)) for i in range(textpage.count_rects())]
        text = page_text(page, textpage, runs)
    finally:
        textpage.close()
    images = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
    if readable(text):
        spread = (max(b.top for b in runs) - min(b.bottom for b in runs)) / height if runs else 0.0
        if image_cover(page, images) >= SCAN_COVER and spread < LAYER_SPREAD:
            return Layer(text, True)
        return Layer(text, False, print_blocks(page, images, runs))
    if text.strip() or images:
        return Layer(text, True)
    drawn = next(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH]), None)
    return Layer(text, drawn is not None)  # text drawn as outlines is read by OCR


def readable(text: str) -> bool:
    """Whether a text layer reads as text: printable characters, and words with vowels."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    good = sum(1 for c in chars if c.isprintable() and c != "\ufffd" and not "\ue000" <= c <= "\uf8ff")
    words = [w for w in text.split() if sum(map(str.isalpha, w)) >= 3]
    vowelled = sum(1 for w in words if VOWELS.intersection(w))
    return good >= READABLE_CHARS * len(chars) and vowelled >= WORDLIKE * len(words)


def print_blocks(page: pypdfium2.PdfPage, images: list, runs: list[Box]) -> tuple[Box, ...]:
    """The images of a text page large enough to hold lines of print, with no text over them."""
    width = page.get_width()
    blocks = []
    for image in images:
        box = Box(*image.get_bounds())
        if box.right - box.left < BLOCK_WIDTH * width or box.top - box.bottom < BLOCK_HEIGHT:
            continue
        if not any(run.centre_in(box) for run in runs):
            blocks.append(box)
    return tuple(blocks)


def block_image(page: pypdfium2.PdfPage, box: Box, dpi: int, max_pixels: int) -> PageImage:
    """A block of the page rendered on its own, within the pixel limit."""
    width, height = page.get_size()
    area = (box.right - box.left) / 72 * (box.top - box.bottom) / 72
    fitted = max(MIN_DPI, min(dpi, int(math.sqrt(max_pixels / area))))
    crop = (box.left, box.bottom, width - box.right, height - box.top)
    return PageImage(page.render(scale=fitted / 72, crop=crop, grayscale=True).to_pil(), fitted)


def image_cover(page: pypdfium2.PdfPage, images: list) -> float:
    """The share of the page's area under at least one image."""
    if not images:
        return 0.0
    width, height = page.get_size()
    grid = np.zeros((COVER_GRID, COVER_GRID), bool)
    for image in images:
        left, bottom, right, top = image.get_bounds()
        x0, x1 = (max(0, min(COVER_GRID, round(x / width * COVER_GRID))) for x in (left, right))
        y0, y1 = (max(0, min(COVER_GRID, round(y / height * COVER_GRID))) for y in (bottom, top))
        grid[y0:y1, x0:x1] = True
    return float(grid.mean())


def text_with_blocks(page: pypdfium2.PdfPage, blocks: list[tuple[Box, str]]) -> str:
    """The page's text with the text read in its blocks of print, each in its place."""
    height = page.get_height()
    textpage = page.get_textpage()
    try:
        runs = [Box(*textpage.get_rect(i)) for i in range(textpage.count_rects())]
        extra = tuple(Item(height - box.top, text) for box, text in blocks)
        return page_text(page, textpage, runs, extra)
    finally:
        textpage.close()


def page_text(
    page: pypdfium2.PdfPage, textpage: pypdfium2.PdfTextPage, runs: list[Box], extra: tuple[Item, ...] = ()
) -> str:
    """The page's text in reading order, its ruled tables as tab-separated rows, `extra` items
    put among its lines."""
    height = page.get_height()
    tables = [table for table in find_tables(page) if table.rows]
    outside = [box for box in runs if not any(box.centre_in(table.box) for table in tables)]
    texts = [(box, textpage.get_text_bounded(*astuple(box))) for box in outside]
    written = [(box, text) for box, text in texts if text.strip()]
    items = lines_of(written, height)
    for table in tables:
        rows = table.cell_texts(textpage)
        items.append(Item(height - table.box.top, "\n".join("\t".join(row) for row in rows)))
    items.extend(extra)
    items.sort(key=lambda item: item.top)
    gutter = column_gutter(items, page.get_width())
    return join_wrapped(items) if gutter is None else in_columns(written, items, gutter, page.get_size())


def column_gutter(items: list[Item], width: float) -> float | None:
    """Where a page set in two columns is cut: just left of where the text after the wide gap
    of most of its lines starts (the right column's margin)."""
    lines = [item for item in items if item.left is not None]
    gaps = sorted(item.gap for item in lines if item.gap is not None)
    if len(gaps) < max(COLUMN_LINES, COLUMN_SHARE * len(lines)):
        return None
    middle = gaps[len(gaps) // 2]
    near = [gap for gap in gaps if abs(gap - middle) <= GUTTER_SLACK * width]
    return middle if len(near) >= max(COLUMN_LINES, COLUMN_SHARE * len(lines)) else None


def in_columns(
    runs: list[tuple[Box, str]], items: list[Item], gutter: float, size: tuple[float, float]
) -> str:
    """A page in two columns read column by column: between two lines over both columns (a
    title, a table), the left column, then the right one; a stretch with few lines in two
    (signature blocks side by side) stays in rows."""
    width, height = size
    parts, top = [], -math.inf
    for bound in [*(item for item in items if spans(item, gutter)), None]:
        bottom = bound.top if bound else math.inf
        band = [run for run in runs if top <= height - run[0].top and height - run[0].bottom <= bottom]
        lines = lines_of(band, height)
        if lines and column_gutter(lines, width) is None:
            parts.append(join_wrapped(lines))
            band = []
        for side in (left_of, right_of):
            column = lines_of([run for run in band if side(run[0], gutter)], height)
            if column:
                parts.append(join_wrapped(column))
        if bound:
            parts.append(bound.text)
            top = bound.bottom if bound.bottom is not None else bound.top + 1
    return "\n".join(parts)


def spans(item: Item, gutter: float) -> bool:
    """A line over both columns: a table, or a line of text across the gutter."""
    return item.left is None or (item.gap is None and item.left < gutter < item.right)


def left_of(box: Box, gutter: float) -> bool:
    return box.right <= gutter


def right_of(box: Box, gutter: float) -> bool:
    return box.left >= gutter


def astuple(box: Box) -> tuple[float, float, float, float]:
    return box.left, box.bottom, box.right, box.top


def lines_of(runs: list[tuple[Box, str]], page_height: float) -> list[Item]:
    """Runs of text on the same line put side by side: a wide gap between them (two columns of
    signatures) becomes a tab."""
    runs = sorted(runs, key=lambda run: (-run[0].top, run[0].left))
    lines: list[list[tuple[Box, str]]] = []
    for box, text in runs:
        line = next((line for line in lines[-3:] if same_line(line[0][0], box)), None)
        if line is None:
            lines.append([(box, text)])
        else:
            line.append((box, text))
    items = []
    for line in lines:
        line.sort(key=lambda run: run[0].left)
        height = max(box.top - box.bottom for box, _ in line)
        text, gaps = line[0][1].strip(), []
        for (before, _), (box, part) in zip(line, line[1:], strict=False):
            wide = box.left - before.right > COLUMN_GAP * height
            text += ("\t" if wide else " ") + part.strip()
            gaps += [box.left - 1] if wide else []
        top = page_height - max(box.top for box, _ in line)
        bottom = page_height - min(box.bottom for box, _ in line)
        gap = gaps[0] if len(gaps) == 1 else None
        items.append(Item(top, text, line[0][0].left, line[-1][0].right, bottom, gap))
    return items


def same_line(a: Box, b: Box) -> bool:
    overlap = min(a.top, b.top) - max(a.bottom, b.bottom)
    return overlap > 0.5 * min(a.top - a.bottom, b.top - b.bottom)


@dataclass(slots=True)
class Table:
    box: Box
    xs: list[float]  # the vertical rules, left to right
    ys: list[float]  # the horizontal rules, top to bottom

    @property
    def rows(self) -> int:
        return max(0, len(self.ys) - 1) if len(self.xs) >= 2 else 0

    def cell_texts(self, textpage) -> list[list[str]]:
        rows = []
        for top, bottom in zip(self.ys, self.ys[1:], strict=False):
            cells = [
                " ".join(textpage.get_text_bounded(left, bottom, right, top).split())
                for left, right in zip(self.xs, self.xs[1:], strict=False)
            ]
            if any(cells):
                rows.append(cells)
        return rows


def find_tables(page: pypdfium2.PdfPage) -> list[Table]:
    """Ruled tables: groups of drawn rules and cell frames that touch, cut into the grid their
    rules draw."""
    boxes = []
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH]):
        left, bottom, right, top = obj.get_bounds()
        if right - left > RULE_WIDTH or top - bottom > RULE_WIDTH:
            boxes.append(Box(left, bottom, right, top))
    tables = []
    for group in touching(boxes):
        xs, ys = [], []
        for box in group:
            if box.right - box.left > RULE_WIDTH:
                ys += [box.top, box.bottom] if box.top - box.bottom > RULE_WIDTH else [box.top]
            if box.top - box.bottom > RULE_WIDTH:
                xs += [box.left, box.right] if box.right - box.left > RULE_WIDTH else [box.left]
        xs, ys = merged(xs), merged(ys)[::-1]
        if len(xs) >= 3 or (len(xs) == 2 and len(ys) >= 3):
            outer = Box(xs[0], ys[-1], xs[-1], ys[0])
            tables.append(Table(outer, xs, ys))
    return tables


def touching(boxes: list[Box]) -> list[list[Box]]:
    groups: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (-b.top, b.left)):
        near = [g for g in groups if any(close(box, other) for other in g)]
        for group in near:
            groups.remove(group)
        groups.append([box, *(b for g in near for b in g)])
    return groups


def close(a: Box, b: Box, slack: float = 2.0) -> bool:
    return (
        a.left <= b.right + slack
        and b.left <= a.right + slack
        and a.bottom <= b.top + slack
        and b.bottom <= a.top + slack
    )


def merged(values: list[float]) -> list[float]:
    out: list[float] = []
    for value in sorted(values):
        if out and value - out[-1] <= RULE_MERGE:
            continue
        out.append(value)
    return out


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
    if following.top - line.bottom > PARAGRAPH_GAP * height or "\t" in line.text or "\t" in following.text:
        return False
    char_width = (line.right - line.left) / max(len(line.text), 1)
    first_word = following.text.split(" ", 1)[0]
    return line.right + char_width * (len(first_word) + 1) > margin


def page_image(page: pypdfium2.PdfPage, dpi: int, max_pixels: int) -> PageImage:
    """A scanned page's image: the scan itself when one image covers the page (its own
    resolution, no resampling), else the page rendered, within the pixel limit either way."""
    width, height = page.get_size()
    images = list(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))
    for image in images:
        check_pixels(*encoded_size(image), max_pixels, "image")
    scan = whole_page_scan(page, images, width * height)
    if scan is not None:
        return scan
    fitted = min(dpi, int(math.sqrt(max_pixels / (width / 72 * height / 72))))
    if fitted < MIN_DPI:
        raise TooLarge(
            f"page de {width / 72 * 2.54:.0f} × {height / 72 * 2.54:.0f} cm, trop grande pour être lue"
            f" sous la limite de {max_pixels / 1e6:g} millions de pixels (--max-pixels)"
        )
    return PageImage(page.render(scale=fitted / 72, grayscale=True).to_pil(), fitted)


# Codecs whose data hold their own width and height, which their decoders follow.
HEADED_CODECS = {"DCTDecode", "JPXDecode", "JBIG2Decode"}


def encoded_size(image: pypdfium2.PdfImage) -> tuple[int, int]:
    """An image's size as its decoder will find it: the header of its data for JPEG, JPEG 2000
    and JBIG2 (a dictionary can state a small size for a huge image), else the dictionary's."""
    stated = image.get_px_size()
    filters = image.get_filters()
    if not filters or filters[-1] not in HEADED_CODECS:
        return stated
    # Only the last filter is the codec: those before it (Flate…) are undone to reach its header.
    data = image.get_data(decode_simple=len(filters) > 1)
    found = header_size(bytes(data), filters[-1]) or (None, None)
    return found[0] or stated[0], found[1] or stated[1]


def whole_page_scan(page: pypdfium2.PdfPage, images: list, area: float) -> PageImage | None:
    if len(images) != 1 or page.get_rotation():
        return None
    image = images[0]
    left, bottom, right, top = image.get_bounds()
    a, b, c, d, _, _ = image.get_matrix().get()
    if b or c or a <= 0 or d <= 0 or (right - left) * (top - bottom) < SCAN_COVER * area:
        return None
    pixels_wide = image.get_px_size()[0]
    dpi = round(pixels_wide / ((right - left) / 72))
    if not MIN_DPI <= dpi <= 1200:
        return None
    try:
        bitmap = image.get_bitmap(render=False).to_pil()
    except pypdfium2.PdfiumError:
        return None
    if bitmap.mode not in ("L", "RGB", "1"):
        bitmap = bitmap.convert("RGB")
    return PageImage(bitmap, dpi)
