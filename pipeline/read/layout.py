"""OCR words laid out as text: lines, wrapped lines of a paragraph joined, tables as
tab-separated rows, specks dropped; each word's place in the text kept with its box."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, replace

# A gap between two words wider than this many line heights separates table cells.
CELL_GAP = 1.2
# What Tesseract reads a table's vertical rules as; a word made only of these is no word.
RULES = " |[]!¦"
# Full lines of text end at least this far across the page.
MARGIN_SHARE = 0.8
# A line of a ragged paragraph may end this many characters short of the page's widest line.
RAGGED_CHARS = 2
# Cells whose left edges are this many line heights apart or less start the same column.
COLUMN_SLACK = 2
# Rows of a table this many lines apart at most still show its columns to each other.
ROW_REACH = 3
# Noise: words of three signs or fewer read with a confidence (0..100) under the first figure,
# and words under the second whose height is outside NOISE_SIZE times the page's median; a
# line whose words average under NOISE_LINE_CONFIDENCE is dirt read as text.
NOISE_CONFIDENCE = (25, 60)
NOISE_SIZE = (0.5, 2.0)
NOISE_LINE_CONFIDENCE = 40
# Lines this many places back in Tesseract's order may be the other half of a row.
SIDE_REACH = 40
# A line further below the one above than this many times the page's usual spacing of a
# paragraph's lines starts a new paragraph, whatever Tesseract grouped (dirt between two lines
# makes it see one paragraph).
PARAGRAPH_PITCH = 1.5
# A speck glued to a line's first word and read as a quote or a dot: "‘Entre :".
STRAY_MARK = re.compile(r"^[‘'`.,·]+(?=[A-ZÀ-Ý])")
# A hyphen at a line's end after a letter: a split word or a compound.
HYPHENATED = re.compile(r"[^\W\d_]-$")


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    left: int
    top: int
    right: int
    bottom: int
    confidence: float
    line: tuple[int, int, int]  # Tesseract's block, paragraph, line

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass(frozen=True, slots=True)
class Placed:
    """Where a word landed in the page's text, and where it is on the page image."""

    start: int
    end: int
    box: tuple[int, int, int, int]  # left, top, right, bottom


Cell = list[Word]
Row = list[Cell]  # a table row: one cell per column, empty cells included
Part = Word | str  # an output line: words and the separators between them


def layout(words: list[Word], width: int = 0) -> tuple[str, list[Placed]]:
    """The page's text and where each word went in it; `width` is the page's, in pixels."""
    lines = lines_of(words)
    if not lines:
        return "", []
    # The right margin: where the widest line ends, unless the page has no full line at all
    # (a last page holding only signatures).
    margin = max(max(w.right for line in lines for w in line), MARGIN_SHARE * width)
    cells = [cells_of(line) for line in lines]
    rows = table_lines(cells)
    pitch = line_pitch(lines)
    out: list[list[Part]] = []
    previous: list[Word] | None = None
    index = 0
    while index < len(lines):
        if index in rows:
            end = index
            while end in rows:
                end += 1
            out += [row_parts(row) for row in table_rows([cells[i] for i in range(index, end)])]
            previous, index = None, end
            continue
        line = lines[index]
        same_paragraph = previous is not None and previous[0].line[:2] == line[0].line[:2]
        if same_paragraph and near(previous, line, pitch) and wrapped(previous, line[0], margin):
            join(out[-1], line)
        else:
            if previous is not None and not same_paragraph:
                out.append([])
            out.append(spaced(line))
        previous, index = line, index + 1
    return render(out)


def line_pitch(lines: list[list[Word]]) -> float | None:
    """How far apart the lines of a paragraph usually are on the page (top to top), or None when
    no paragraph has two lines."""
    pitches = [
        band(below)[0] - band(above)[0]
        for above, below in zip(lines, lines[1:], strict=False)
        if above[0].line[:2] == below[0].line[:2] and band(below)[0] > band(above)[0]
    ]
    return statistics.median(pitches) if pitches else None


def near(above: list[Word], below: list[Word], pitch: float | None) -> bool:
    return pitch is None or band(below)[0] - band(above)[0] <= PARAGRAPH_PITCH * pitch


def lines_of(words: list[Word]) -> list[list[Word]]:
    """Tesseract's lines, in its order, without table rules and lone specks; lines it put in
    different blocks but that sit side by side on the page (the cells of a table row, two
    columns of signatures) made one line."""
    if not words:
        return []
    height = statistics.median(w.height for w in words)
    grouped: dict[tuple, list[Word]] = {}
    for word in words:
        word = without_rule(word)
        if word.text.strip(RULES) and not noise(word, height):
            grouped.setdefault(word.line, []).append(word)
    lines: list[list[Word]] = []
    for line in grouped.values():
        line.sort(key=lambda w: w.left)
        kept = [w for i, w in enumerate(line) if not speck(line, i)]
        if not kept or statistics.fmean(w.confidence for w in kept) < NOISE_LINE_CONFIDENCE:
            continue
        kept[0] = replace(kept[0], text=STRAY_MARK.sub("", kept[0].text))
        beside = next((other for other in lines[-SIDE_REACH:] if side_by_side(other, kept)), None)
        if beside is None:
            lines.append(kept)
        else:
            beside += kept
            beside.sort(key=lambda w: w.left)
    return lines


def without_rule(word: Word) -> Word:
    """A table's rule read as '|' and glued to a cell's word ("|45000€", "7|0135-DGAL-CNUM"):
    the longest piece between bars is the word."""
    if "|" not in word.text or not word.text.strip(RULES):
        return word
    return replace(word, text=max(word.text.split("|"), key=len))


def noise(word: Word, height: float) -> bool:
    """A mark Tesseract itself doubts that is short, or far from the size of the page's print:
    the remains of a rule, a stain, a stripe."""
    if word.confidence >= NOISE_CONFIDENCE[1] or word.text.isdigit():
        return False
    odd_size = not NOISE_SIZE[0] * height <= word.height <= NOISE_SIZE[1] * height
    return odd_size or (len(word.text) <= 3 and word.confidence < NOISE_CONFIDENCE[0])


def side_by_side(line: list[Word], other: list[Word]) -> bool:
    """Two lines on the same level of the page that do not overlap across it."""
    top, bottom = band(line)
    other_top, other_bottom = band(other)
    shared = min(bottom, other_bottom) - max(top, other_top)
    if shared <= 0.5 * min(bottom - top, other_bottom - other_top):
        return False
    return all(w.right <= o.left or o.right <= w.left for w in line for o in other)


def band(line: list[Word]) -> tuple[float, float]:
    return statistics.median(w.top for w in line), statistics.median(w.bottom for w in line)


def speck(line: list[Word], index: int) -> bool:
    """A mark of one or two signs, no letter nor digit, standing apart from the line's words:
    dirt read as '€', '‘' or '©'."""
    word = line[index]
    if len(word.text) > 2 or any(c.isalnum() for c in word.text):
        return False
    gap = CELL_GAP * statistics.median(w.height for w in line)
    before = index == 0 or word.left - line[index - 1].right > gap
    after = index == len(line) - 1 or line[index + 1].left - word.right > gap
    return before and after


def cells_of(line: list[Word]) -> list[Cell]:
    """The line's words grouped into cells: a gap wider than CELL_GAP line heights splits them."""
    height = statistics.median(w.height for w in line)
    cells = [[line[0]]]
    for before, word in zip(line, line[1:], strict=False):
        if word.left - before.right > CELL_GAP * height:
            cells.append([word])
        else:
            cells[-1].append(word)
    return cells


def table_lines(cells: list[list[Cell]]) -> set[int]:
    """The lines that belong to tables: split lines whose columns line up with another split
    line's close by (one wide gap is no table), and the lines of wrapped cells between or under
    them (one-cell lines right of the table's first column, or between two of its rows)."""
    split = [
        i
        for i, row in enumerate(cells)
        if len(row) > 1
        and any(
            aligned(row, cells[j])
            for j in range(i - ROW_REACH, i + ROW_REACH + 1)
            if j != i and 0 <= j < len(cells)
        )
    ]
    rows = set(split)
    for a, b in zip(split, split[1:], strict=False):
        if b - a <= ROW_REACH:
            rows.update(i for i in range(a, b) if wrapped_cell(cells[i], cells[a]))
    for start in split:
        index = start + 1
        while index < len(cells) and index not in rows and right_of_first_column(cells[index], cells[start]):
            rows.add(index)
            index += 1
    return rows


def aligned(row: list[Cell], other: list[Cell]) -> bool:
    """Two split lines share a column boundary: a later cell of one overlaps a later cell of the
    other."""
    if len(other) < 2:
        return False
    return any(overlap(a, b) for a in row[1:] for b in other[1:])


def overlap(a: Cell, b: Cell) -> bool:
    return a[0].left < b[-1].right and b[0].left < a[-1].right


def wrapped_cell(row: list[Cell], table_row: list[Cell]) -> bool:
    """A line between two rows of a table that continues a cell: it sits right of the first
    column, or carries on a sentence (lower case); a heading between two tables does not."""
    return right_of_first_column(row, table_row) or row[0][0].text[:1].islower()


def right_of_first_column(row: list[Cell], table_row: list[Cell]) -> bool:
    return len(row) == 1 and row[0][0].left > table_row[0][-1].right


def column_starts(rows: list[list[Cell]]) -> list[int]:
    """Where the table's columns start: left edges of cells that line up in two rows or more
    (a gap that splits one row only, around a speck or a misread rule, is no column)."""
    height = statistics.median(w.height for row in rows for cell in row for w in cell)
    edges = sorted((cell[0].left, index) for index, row in enumerate(rows) for cell in row)
    clusters: list[list[tuple[int, int]]] = []
    for edge in edges:
        if clusters and edge[0] - clusters[-1][0][0] <= COLUMN_SLACK * height:
            clusters[-1].append(edge)
        else:
            clusters.append([edge])
    starts = [c[0][0] for c in clusters if len({row for _, row in c}) >= min(2, len(rows))]
    return starts if starts and starts[0] == edges[0][0] else [edges[0][0], *starts]


def table_rows(lines: list[list[Cell]]) -> list[Row]:
    """Each line's cells put in the table's columns, so empty cells keep their place. A line
    with nothing in its first column continues the row above (its cells wrapped), and so does
    one with text in its first column only when that text starts in lower case (a wrapped
    label): a new label starts a new row."""
    starts = column_starts(lines)
    height = statistics.median(w.height for line in lines for cell in line for w in cell)
    table: list[Row] = []
    for line in lines:
        columns: Row = [[] for _ in starts]
        for cell in line:
            index = max(0, sum(1 for start in starts if start <= cell[0].left + COLUMN_SLACK * height) - 1)
            columns[index] += cell
        first_only = bool(columns[0]) and not any(columns[1:])
        continued = not columns[0] or (first_only and columns[0][0].text[:1].islower())
        if table and continued and table[-1][0]:
            table[-1] = [above + below for above, below in zip(table[-1], columns, strict=True)]
        else:
            table.append(columns)
    return table


def row_parts(row: Row) -> list[Part]:
    parts: list[Part] = []
    for index, cell in enumerate(row):
        if index:
            parts.append("\t")
        parts += spaced(cell)
    return parts


def spaced(words: list[Word]) -> list[Part]:
    parts: list[Part] = []
    for word in words:
        if parts:
            parts.append(" ")
        parts.append(word)
    return parts


def join(parts: list[Part], line: list[Word]) -> None:
    """Append a wrapped line to the one above; after a hyphen the line break stays, for the
    normalising stage to tell a split word from a compound (pipeline/read/normalise.py)."""
    last = parts[-1]
    parts.append("\n" if isinstance(last, Word) and HYPHENATED.search(last.text) else " ")
    parts += spaced(line)


def wrapped(line: list[Word], next_word: Word, margin: int) -> bool:
    """The line was wrapped when the next line's first word would have fitted on it."""
    char_width = (line[-1].right - line[0].left) / max(sum(len(w.text) + 1 for w in line), 1)
    return line[-1].right + char_width * (len(next_word.text) + 1 + RAGGED_CHARS) > margin


def render(lines: list[list[Part]]) -> tuple[str, list[Placed]]:
    text: list[str] = []
    placed: list[Placed] = []
    offset = 0
    for line in lines:
        for part in line:
            if isinstance(part, Word):
                placed.append(
                    Placed(offset, offset + len(part.text), (part.left, part.top, part.right, part.bottom))
                )
                text.append(part.text)
                offset += len(part.text)
            else:
                text.append(part)
                offset += len(part)
        text.append("\n")
        offset += 1
    return "".join(text), placed
