"""Tables flattened into text: lines cut into cells at tabs or at runs of spaces, and each cell
matched to its header's column, by rank where tabs keep empty cells, else by position."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Between two cells of a line aligned with spaces: two spaces at least.
SPACES = re.compile(r"[ \u00a0]{2,}")


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    start: int  # offset in Document.text


@dataclass(frozen=True, slots=True)
class Row:
    cells: tuple[Cell, ...]  # with tabs every cell, empty ones too; with spaces the filled ones
    start: int  # offset of the line in Document.text
    tabbed: bool


def lines_of(text: str) -> list[Cell]:
    found, start = [], 0
    for line in text.split("\n"):
        if line.strip():
            found.append(Cell(line, start))
        start += len(line) + 1
    return found


def rows_of(text: str) -> list[Row]:
    """Every line that holds something, cut into its cells."""
    return [row_of(line) for line in lines_of(text)]


def row_of(line: Cell) -> Row:
    if "\t" in line.text:
        cells, position = [], line.start
        for part in line.text.split("\t"):
            cells.append(Cell(part, position))
            position += len(part) + 1
        return Row(tuple(cells), line.start, True)
    gaps = list(SPACES.finditer(line.text))
    if not gaps:  # a line of prose: one cell
        return Row((line,) if line.text.strip() else (), line.start, False)
    cells, position = [], 0
    for gap in [*gaps, None]:
        end = gap.start() if gap else len(line.text)
        if line.text[position:end].strip():
            cells.append(Cell(line.text[position:end], line.start + position))
        position = gap.end() if gap else end
    return Row(tuple(cells), line.start, False)


def is_grid(row: Row) -> bool:
    """A line of a table that keeps its cells on one line."""
    return row.tabbed or len(row.cells) > 1


def columns_of(row: Row, header: Row) -> list[tuple[int, Cell]]:
    """The row's cells with the rank of the header cell above each, -1 for a column of labels
    the header leaves out: by rank with tabs (a row one cell longer than its header has such a
    column), by position with spaces (the header cell each overlaps most, else the closest)."""
    if row.tabbed and header.tabbed:
        shift = max(0, len(row.cells) - len(header.cells))
        return [(max(rank - shift, -1), cell) for rank, cell in enumerate(row.cells)]
    spans = [span_of(cell, header) for cell in header.cells]
    found = []
    for cell in row.cells:
        low, high = span_of(cell, row)
        overlaps = [min(high, end) - max(low, start) for start, end in spans]
        gaps = [min(abs(low - end), abs(start - high)) for start, end in spans]
        if max(overlaps) > 0:
            found.append((overlaps.index(max(overlaps)), cell))
        elif high <= spans[0][0]:
            found.append((-1, cell))
        else:
            found.append((gaps.index(min(gaps)), cell))
    return found


def span_of(cell: Cell, row: Row) -> tuple[int, int]:
    """Where a cell's words lie on its line, blanks around them left out."""
    text = cell.text.rstrip()
    low = cell.start - row.start + len(text) - len(text.lstrip())
    return low, cell.start - row.start + len(text)
