"""Amounts of credits: from AE/CP tables, or from prose, in figures or in words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

import regex

from pipeline.extract.tables import Cell, Row, columns_of, is_grid, lines_of, rows_of, span_of
from pipeline.extract.values import parse_number, words_to_number
from pipeline.model import Candidate, Document, Warning, warning
from pipeline.patterns import Patterns

__all__ = ["Amount", "Cell", "extract_amounts", "lines_of", "total_amount"]


@dataclass(frozen=True, slots=True)
class Amount:
    annee: int | None
    type_credit: str | None
    montant: int | float
    produit: str | None
    estimation: bool


class Figure(NamedTuple):
    """An amount as printed: its value and where it is."""

    value: int | float
    start: int
    end: int
    rule: str


@dataclass(slots=True)
class Found:
    """The credits a text delegates, and the totals it states for them."""

    items: list[Candidate] = field(default_factory=list)
    totals: list[Candidate] = field(default_factory=list)
    totals_as_items: list[Candidate] = field(default_factory=list)  # in prose, labelled as items


def extract_amounts(doc: Document, patterns: Patterns) -> tuple[list[Candidate], list[Candidate]]:
    """The credits delegated, one per year × kind (× product), and the totals the text states."""
    excluded = not_credit_spans(doc, patterns)
    table, prose = table_amounts(doc, patterns, excluded), prose_amounts(doc, patterns, excluded)
    if table.items:
        return table.items, table.totals + prose.totals
    if prose.items:
        return prose.items, prose.totals
    # A stated total with no other amount is the credits themselves.
    alone = {c.value: c for c in prose.totals_as_items}
    return list(alone.values()), []


def total_amount(amounts: list[Candidate], totals: list[Candidate]) -> Candidate | None:
    """The stated total, or else the sum of AE (or of amounts with no type, or of CP)."""
    if totals:
        return min(totals, key=lambda c: c.evidence.start)
    for kind in ("AE", None, "CP"):
        chosen = [c for c in amounts if c.value.type_credit == kind]
        if chosen:
            total = sum(c.value.montant for c in chosen)
            return Candidate(total, chosen[0].evidence, 0.8, f"amounts.total_of_{kind or 'untyped'}")
    return None


# Tables -------------------------------------------------------------------------------------

# The longest cell of a table aligned with spaces: a longer one is a line of prose.
WIDEST_CELL = 80
# How many lines' headings are kept, read once, in a process.
HEADINGS_KEPT = 20_000


@dataclass(frozen=True, slots=True)
class Heading:
    """What a header cell says of its column."""

    role: str  # "value" for a column of amounts; "year", "product", "type" for a column of labels
    year: int | None = None
    types: tuple[str, ...] = ()
    scale: int | None = None
    estimate: bool = False


@dataclass(slots=True)
class Table:
    header: Row
    columns: list[Heading | None]
    scale: int
    estimate: bool
    listed: bool  # printed one cell per line
    year: int | None = None  # the year its title gives all its amounts
    excluded: list[tuple[int, int]] = field(default_factory=list)  # spans of no credits


def table_amounts(doc: Document, patterns: Patterns, excluded: list[tuple[int, int]] | None = None) -> Found:
    """Amounts in tables whose headers name years, kinds of credit or amounts: a table is read
    from its header (on one line or two) to the first line that is none of its rows."""
    rows, found, index = rows_of(doc.plain), Found(), 0
    while index < len(rows):
        table = grid_header(rows, index, patterns) or listed_header(rows, index, patterns)
        if table is None:
            index += 1
            continue
        table.scale, table.estimate, table.year = title_of(rows, index, table, patterns)
        table.excluded = excluded or []
        lower = None if table.listed or index + 1 >= len(rows) else grid_header(rows, index + 1, patterns)
        if lower:
            table, index = stacked(table, lower), index + 1
        read = read_listed if table.listed else read_grid
        index = read(doc, rows, index, table, found, patterns)
    return found


def stacked(upper: Table, lower: Table) -> Table:
    """A header on two lines: each column of the lower line takes the year or kind of the upper
    cell above it; with tabs, an upper cell spans the empty cells after it ("\t2024\t\t2025\t").
    An upper cell over no lower one (a "Produit" column's header) is a column of its own."""
    spread = list(upper.columns)
    if upper.header.tabbed:
        for rank in range(1, len(spread)):
            if spread[rank] is None and spread[rank - 1] and spread[rank - 1].role == "value":
                spread[rank] = spread[rank - 1]
    ranks = ranks_above(lower.header, upper.header)
    cells, columns = list(lower.header.cells), []
    for rank, below in zip(ranks, lower.columns, strict=True):
        above = spread[rank] if rank >= 0 else None
        columns.append(merged(above, below))
    if not lower.header.tabbed:
        for rank, cell in enumerate(upper.header.cells):
            if rank not in ranks:
                cells.append(Cell(cell.text, lower.header.start + cell.start - upper.header.start))
                columns.append(upper.columns[rank])
        order = sorted(range(len(cells)), key=lambda i: cells[i].start)
        cells, columns = [cells[i] for i in order], [columns[i] for i in order]
    header = Row(tuple(cells), lower.header.start, lower.header.tabbed)
    return Table(header, columns, upper.scale, upper.estimate, False, upper.year, upper.excluded)


def merged(above: Heading | None, below: Heading | None) -> Heading | None:
    """The header of a column from its two lines: "2024" over "AE" names AE of 2024."""
    if above is None or below is None or "value" not in (above.role, below.role):
        return below or above
    return Heading(
        "value",
        below.year or above.year,
        below.types or above.types,
        below.scale or above.scale,
        below.estimate or above.estimate,
    )


def ranks_above(lower: Row, upper: Row) -> list[int]:
    """The upper header cell above each lower one: by rank with tabs; with spaces the one whose
    middle is closest, an upper cell standing over the middle of the columns it spans."""
    if lower.tabbed and upper.tabbed:
        return [rank for rank, _ in columns_of(lower, upper)]
    middles = [sum(span_of(cell, upper)) / 2 for cell in upper.cells]
    found = []
    for cell in lower.cells:
        middle = sum(span_of(cell, lower)) / 2
        gaps = [abs(middle - other) for other in middles]
        found.append(gaps.index(min(gaps)))
    return found


def heading(text: str, patterns: Patterns) -> Heading | None:
    """What a header cell names, or None for a cell that is no header: worked out once per
    process and line (a table's lines are read again for each header they may start, and
    texts share most of theirs), for the last HEADINGS_KEPT lines."""
    memo = patterns.cached.setdefault("amounts.headings", {})
    if text not in memo:
        if len(memo) >= HEADINGS_KEPT:
            memo.clear()
        memo[text] = read_heading(text, patterns)
    return memo[text]


def read_heading(text: str, patterns: Patterns) -> Heading | None:
    text = text.strip()
    if not text or len(text) > 80 or patterns.regex("values", "amount").search(text):
        return None
    if patterns.regex("amounts", "not_credit_header").search(text) or patterns.regex(
        "amounts", "total_column"
    ).match(text):
        return None
    for role in patterns["amounts"]["label_columns"]:
        if patterns.regex("amounts", "label_columns", role).match(text):
            return Heading(role)
    unit = patterns.regex("amounts", "table_unit").search(text)
    scale = scale_of(unit["scale"], patterns) if unit else None
    estimate = bool(patterns.regex("amounts", "estimation_words").search(text))
    types = kinds_in(text, patterns)
    year = patterns.regex("amounts", "year_in_header").search(text) if len(text) <= 40 else None
    if types or year:
        return Heading("value", int(year["year"]) if year else None, types, scale, estimate)
    if patterns.regex("amounts", "money_header").match(text):
        return Heading("value", None, (), scale, estimate)
    return None


def kinds_in(text: str, patterns: Patterns) -> tuple[str, ...]:
    return tuple(
        kind
        for kind in patterns["amounts"]["credit_types_in_text"]
        if patterns.regex("amounts", "credit_types_in_text", kind).search(text)
    )


def names_amounts(columns: list[Heading | None]) -> bool:
    """A header of a table of credits: after the first, a column of amounts named by a year or
    a kind of credit, or one beside a column of years or of kinds ("Année", "Montant"). A row
    whose first cell alone names a year ("2024\t-\t-") is no header."""
    values = [c for c in columns[1:] if c and c.role == "value"]
    labelled = any(c and c.role in ("year", "type") for c in columns)
    return any(c.types or c.year for c in values) or bool(values and labelled)


def grid_header(rows: list[Row], index: int, patterns: Patterns) -> Table | None:
    """A header on one line. Spaces cut prose too ("Article 4  Crédits de paiement"): a header
    aligned with spaces is one whose every cell after the first is a header."""
    row = rows[index]
    if not is_grid(row) or any(holds_figure(c.text, patterns) for c in row.cells):
        return None
    columns = [heading(cell.text, patterns) for cell in row.cells]
    if not names_amounts(columns) or (not row.tabbed and None in columns[1:]):
        return None
    if is_title(columns[0]):
        columns[0] = None  # a title over the rows' labels: "Montants des crédits"
    return Table(row, columns, 1, False, False)


def listed_header(rows: list[Row], index: int, patterns: Patterns) -> Table | None:
    """A header printed one cell per line: the header lines up to the first row's label (a
    header-like line followed by an amount)."""
    columns: list[Heading] = []
    position = index
    while position < len(rows) and not is_grid(rows[position]):
        text = rows[position].cells[0].text
        found = heading(text, patterns)
        next_text = rows[position + 1].cells[0].text if position + 1 < len(rows) else ""
        if found is None or (columns and is_label(text, patterns) and is_value(next_text, patterns)):
            break
        columns.append(found)
        position += 1
    if len(columns) < 2 or not names_amounts(columns) or is_title(columns[0]):
        return None
    cells = tuple(rows[i].cells[0] for i in range(index, position))
    return Table(Row(cells, rows[index].start, False), list(columns), 1, False, True)


def is_title(column: Heading | None) -> bool:
    """A first header cell that names amounts but no year or kind: the table's title."""
    return bool(column and column.role == "value" and not (column.types or column.year))


def is_label(text: str, patterns: Patterns) -> bool:
    """A cell that labels a row: a year, a kind of credit, a total."""
    return bool(
        patterns.regex("amounts", "year").match(text)
        or kind_of(text, patterns)
        or patterns.regex("amounts", "total_row").match(text)
    )


def title_of(rows: list[Row], index: int, table: Table, patterns: Patterns) -> tuple[int, bool, int | None]:
    """The unit, the estimate and the year a table's title line (or its header cells, for the
    unit and the estimate) state for all its amounts: "Crédits 2025 (en k€)"."""
    title = rows[index - 1].cells[0].text if index > 0 and not is_grid(rows[index - 1]) else ""
    scale, estimate = 1, False
    for text in [cell.text for cell in table.header.cells] + [title]:
        unit = patterns.regex("amounts", "table_unit").search(text)
        scale = scale_of(unit["scale"], patterns) if unit else scale
        estimate = estimate or bool(patterns.regex("amounts", "estimation_words").search(text))
    year = patterns.regex("amounts", "year_in_text", "stated").search(title)
    if not year and len(title) <= 40:
        year = patterns.regex("amounts", "year_in_header").search(title)
    return scale, estimate, int(year["year"]) if year else None


def scale_of(word: str, patterns: Patterns) -> int:
    scales = patterns["values"]["scales"]
    return scales[word] if word in scales else scales[word.lower()]


def read_grid(
    doc: Document, rows: list[Row], index: int, table: Table, found: Found, patterns: Patterns
) -> int:
    """The rows of a table whose lines keep their cells; returns the index after the table."""
    index += 1
    while index < len(rows) and is_grid(rows[index]):
        row = rows[index]
        if not row.tabbed and max(len(cell.text.strip()) for cell in row.cells) > WIDEST_CELL:
            return index  # a line of prose with double spaces
        columns = [heading(cell.text, patterns) for cell in row.cells]
        if names_amounts(columns) and not any(holds_figure(c.text, patterns) for c in row.cells):
            return index  # another header: another table
        read_row(doc, table, columns_of(row, table.header), found, patterns)
        index += 1
    return index


def read_listed(
    doc: Document, rows: list[Row], index: int, table: Table, found: Found, patterns: Patterns
) -> int:
    """The rows of a table printed one cell per line: each row its labels, then its amounts (a
    Total row's empty labels are not printed); returns the index after the table."""
    labels = [rank for rank, c in enumerate(table.columns) if c.role != "value"] or [-1]
    values = [rank for rank, c in enumerate(table.columns) if c.role == "value"]
    index += len(table.columns)
    while index < len(rows):
        cells, start = [], index
        for rank in labels:
            if (
                index == len(rows)
                or is_grid(rows[index])
                or holds_figure(rows[index].cells[0].text, patterns)
            ):
                break
            cells.append((rank, rows[index].cells[0]))
            index += 1
        for rank in values:
            if (
                index == len(rows)
                or is_grid(rows[index])
                or not is_value(rows[index].cells[0].text, patterns)
            ):
                break
            cells.append((rank, rows[index].cells[0]))
            index += 1
        if not any(rank in values for rank, _ in cells):
            return start
        read_row(doc, table, cells, found, patterns)
    return index


def is_value(text: str, patterns: Patterns) -> bool:
    """A line of a listed table that holds an amount, or stands for none ("-")."""
    if patterns.regex("amounts", "year").match(text):
        return False
    return bool(
        amount_match(text, patterns)
        or patterns.regex("amounts", "bare_number").match(text)
        or patterns.regex("amounts", "empty_cell").match(text)
    )


def read_row(
    doc: Document, table: Table, cells: list[tuple[int, Cell]], found: Found, patterns: Patterns
) -> None:
    """A row's amounts, each labelled by its column's header and by the row's labels; a Total
    row's amounts are totals, a sub-total's are left out."""
    labels = row_labels(table, cells, patterns)
    if labels is None:
        return
    sums = []
    for rank, cell in cells:
        column = table.columns[rank] if rank >= 0 else None
        if column is None or column.role != "value":
            continue
        for figure, product, estimate in cell_amounts(cell, table, column, patterns):
            if inside(figure, table.excluded):
                continue
            if "total" in labels:
                sums.append((column.types != ("AE",), figure))
                continue
            for kind in column.types or (labels.get("type"),):
                amount = Amount(
                    labels.get("year") or column.year or table.year,
                    kind,
                    figure.value,
                    product or labels.get("product"),
                    estimate or column.estimate or table.estimate,
                )
                found.items.append(
                    Candidate(amount, doc.evidence(figure.start, figure.end), 0.9, figure.rule)
                )
    if sums:
        # Of a Total row's amounts, the total of AE is the convention's.
        figure = min(sums, key=lambda pair: pair[0])[1]
        found.totals.append(
            Candidate(figure.value, doc.evidence(figure.start, figure.end), 0.9, "amounts.total_row")
        )


def row_labels(table: Table, cells: list[tuple[int, Cell]], patterns: Patterns) -> dict | None:
    """What a row's label cells say: {"year": 2024, "type": "AE", "product": "Zam", "total":
    True}; None for a sub-total."""
    labels: dict = {}
    for rank, cell in cells:
        column = table.columns[rank] if rank >= 0 else None
        if column and column.role == "value":
            continue
        text = cell.text.strip()
        if patterns.regex("amounts", "subtotal_row").match(text):
            return None
        if patterns.regex("amounts", "total_row").match(text):
            labels["total"] = True
        elif column and column.role == "product" and text:
            labels.setdefault("product", text.strip('«»"“” \t'))
        else:
            for key, value in label_of(text, patterns).items():
                labels.setdefault(key, value)
    return labels


def label_of(text: str, patterns: Patterns) -> dict:
    """The year and the kind of credit a row's label names: "2024", "AE", "AE 2024"."""
    year = patterns.regex("amounts", "year").match(text)
    kind = kind_of(text, patterns)
    if kind and not year and len(text) <= 40:
        year = patterns.regex("amounts", "year_in_header").search(text)
    found = {"year": int(year["year"])} if year else {}
    return found | ({"type": kind} if kind else {})


def kind_of(text: str, patterns: Patterns) -> str | None:
    for kind in patterns["amounts"]["credit_types"]:
        if patterns.regex("amounts", "credit_types", kind).match(text.strip()):
            return kind
    return None


def cell_amounts(
    cell: Cell, table: Table, column: Heading, patterns: Patterns
) -> list[tuple[Figure, str | None, bool]]:
    """Each amount of a cell, with the product named before it and whether it is an estimate; a
    figure with no currency takes the unit of its table."""
    found, previous = [], 0
    for match in patterns.regex("values", "amount").finditer(cell.text):
        before = cell.text[previous : match.start()]
        product = patterns.regex("amounts", "product").search(before)
        estimate = patterns.regex("amounts", "estimation_after").match(cell.text, match.end())
        previous = estimate.end() if estimate else match.end()
        figure = Figure(
            amount_value(match, patterns),
            cell.start + match.start(),
            cell.start + match.end(),
            "amounts.table",
        )
        found.append((figure, product["product"] if product else None, bool(estimate)))
    bare = patterns.regex("amounts", "bare_number").match(cell.text)
    if not found and bare:
        scale = column.scale or table.scale
        value = parse_number(bare["number"], bare["cents"] or bare["fraction"], scale)
        figure = Figure(
            value, cell.start + bare.start("number"), cell.start + bare.end(), "amounts.table_unit"
        )
        found.append((figure, None, False))
    return found


def amount_match(text: str, patterns: Patterns) -> regex.Match | None:
    return patterns.regex("values", "amount").search(text)


def holds_figure(text: str, patterns: Patterns) -> bool:
    """A cell with an amount, or with a number that is no year: no header's cell."""
    if amount_match(text, patterns):
        return True
    number = patterns.regex("amounts", "bare_number").match(text)
    return bool(number and not patterns.regex("amounts", "year").match(text))


# Prose --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Said:
    """Something a sentence says near its amounts: a year, or a kind of credit."""

    start: int
    end: int
    value: object


def prose_amounts(doc: Document, patterns: Patterns, excluded: list[tuple[int, int]]) -> Found:
    """Amounts in sentences that speak of credits, each with the year and the kind of credit said
    closest to it. Amounts that are no credit delegated are left out: in the visas or the
    préambule, thresholds, prices before tax, a marché's value, the amounts an avenant replaces,
    the parts of an amount ("dont …"). A stated total is an item only when it is the only one."""
    items: dict[Amount, Candidate] = {}
    totals: list[Candidate] = []
    intro = previous = None
    money = patterns.regex("amounts", "money_context")
    speaks: dict[int, bool] = {}  # by sentence start: whether it speaks of money
    for sentence in sentences(doc.plain):
        context = context_of(doc, sentence, intro, previous)
        intro = sentence if sentence.text.rstrip().endswith(":") else context if context is intro else None
        previous = sentence
        for said in (sentence, context):
            if said and said.start not in speaks:
                speaks[said.start] = bool(money.search(said.text))
        if not any(speaks[said.start] for said in (sentence, context) if said):
            continue
        for amount, figure, is_total in sentence_amounts(doc, sentence, context, excluded, patterns):
            candidate = Candidate(amount, doc.evidence(figure.start, figure.end), 0.75, figure.rule)
            if is_total:
                totals.append(candidate)
            else:
                items.setdefault(amount, candidate)
    stated = [Candidate(c.value.montant, c.evidence, 0.85, "amounts.total_stated") for c in totals]
    return Found(list(items.values()), stated, totals)


def context_of(doc: Document, sentence: Cell, intro: Cell | None, previous: Cell | None) -> Cell | None:
    """The sentence whose words of credits, years and kinds a sentence takes when it has none: a
    list item's introduction ("les crédits suivants :"), or the clause before a semicolon ("Pour
    2024 : 100 000 € en AE ; 80 000 € en CP")."""
    if intro and re.match(r"[ \t]*[-–•*]", sentence.text):
        return intro
    if previous and ends_clause(doc.plain, sentence.start):
        return previous
    return None


def ends_clause(text: str, offset: int) -> bool:
    """Whether the text before the offset ends with a semicolon, blanks aside."""
    while offset > 0 and text[offset - 1].isspace():
        offset -= 1
    return offset > 0 and text[offset - 1] == ";"


def sentence_amounts(
    doc: Document, sentence: Cell, context: Cell | None, excluded: list[tuple[int, int]], patterns: Patterns
) -> list[tuple[Amount, Figure, bool]]:
    """A sentence's amounts that are credits, each labelled, and whether it is a stated total."""
    years = years_said(sentence, patterns) or (years_said(context, patterns) if context else [])
    kinds = kinds_said(sentence, patterns) or (kinds_said(context, patterns) if context else [])
    estimate = bool(patterns.regex("amounts", "estimation_words").search(sentence.text))
    found = []
    parent: str | None = ""  # the kind of the last whole amount; "" before the first
    splitting, previous = False, sentence.start
    for figure in figures_and_words(sentence, patterns, doc.warnings):
        before = doc.plain[previous : figure.start]
        after = doc.plain[figure.end : figure.end + 40]
        previous = figure.end
        credit = not inside(figure, excluded) and is_credit(doc, sentence, figure, after, patterns)
        year, kind = nearest(years, figure), nearest(kinds, figure)
        split = parent != "" and (splitting or ends_with(patterns, "split_before", before))
        # A part of the amount before ("dont 100 000 € pour …"), unless of another kind of
        # credit ("100 000 € en AE, dont 60 000 € en CP").
        if split and not (credit and kind and parent and kind != parent):
            splitting = True
            continue
        parent, splitting = (kind if credit else None), False
        if not credit:
            continue
        is_total = ends_with(patterns, "total", doc.plain[sentence.start : figure.start]) or bool(
            patterns.regex("amounts", "total_after").match(after)
        )
        late = bool(patterns.regex("amounts", "estimation_after").match(after))
        for each in ("AE", "CP") if kind == "both" else (kind,):
            found.append((Amount(year, each, figure.value, None, estimate or late), figure, is_total))
    return found


def is_credit(doc: Document, sentence: Cell, figure: Figure, after: str, patterns: Patterns) -> bool:
    """Whether an amount is a credit: not one an avenant replaces, no threshold, no price
    before tax, nothing a marché, a penalty or a cost owns."""
    window = doc.plain[
        max(sentence.start, figure.start - patterns["amounts"]["replaced_window"]) : figure.start
    ]
    if ends_with(patterns, "replaced_before", window):
        return False
    if patterns.regex("amounts", "not_credit_after").match(after):
        return False
    return not ends_with(patterns, "not_credit_before", doc.plain[sentence.start : figure.start])


def ends_with(patterns: Patterns, key: str, text: str) -> bool:
    """Whether a rule anchored at the end of a text (`$`) matches it, read as one line."""
    return bool(patterns.regex("amounts", key).search(text.replace("\n", " ")))


def not_credit_spans(doc: Document, patterns: Patterns) -> list[tuple[int, int]]:
    return [
        match.span()
        for section in patterns["amounts"]["not_credit_sections"]
        for match in patterns.finditer(doc, "amounts", "not_credit_sections", section)
    ]


def inside(figure: Figure, spans: list[tuple[int, int]]) -> bool:
    return any(start <= figure.start < end for start, end in spans)


def years_said(sentence: Cell, patterns: Patterns) -> list[Said]:
    """The years a sentence gives its amounts: those said of an amount, else those in passing."""
    for strength in ("stated", "passing"):
        found = patterns.regex("amounts", "year_in_text", strength).finditer(sentence.text)
        years = [Said(sentence.start + m.start(), sentence.start + m.end(), int(m["year"])) for m in found]
        if years:
            return years
    return []


def kinds_said(sentence: Cell, patterns: Patterns) -> list[Said]:
    """The kinds of credit a sentence names: "AE", "CP", or "both" for "en AE et en CP"; a kind
    paid "au fur et à mesure", with no figure, is no kind of any amount."""
    text = sentence.text
    both = [m.span() for m in patterns.regex("amounts", "credit_types_both").finditer(text)]
    said = [Said(sentence.start + low, sentence.start + high, "both") for low, high in both]
    for kind in patterns["amounts"]["credit_types_in_text"]:
        for match in patterns.regex("amounts", "credit_types_in_text", kind).finditer(text):
            if not any(low <= match.start() < high for low, high in both):
                said.append(Said(sentence.start + match.start(), sentence.start + match.end(), kind))
    as_needed = patterns.regex("amounts", "as_needed_after")
    kept = []
    for item in said:
        if not as_needed.match(text, item.end - sentence.start):
            kept.append(item)
        elif item.value == "both":
            kept.append(Said(item.start, item.end, "AE"))
    return kept


def nearest(said: list[Said], figure: Figure) -> object:
    """What is said closest to an amount: "250 000 € au titre de 2021 et 300 000 € au titre
    de 2022" gives each its own year; of two things as close, the one after the amount ("… en
    AE et 800 000 € en CP"); None when they are as close on the same side."""
    if not said:
        return None
    gaps = sorted(
        (max(s.start - figure.end, figure.start - s.end), s.start < figure.start, s.value) for s in said
    )
    if len(gaps) > 1 and gaps[0][:2] == gaps[1][:2] and gaps[0][2] != gaps[1][2]:
        return None
    return gaps[0][2]


# Where a sentence of prose ends (sentences below).
SENTENCE_END = re.compile(r"[.;](?!\d)|\n(?=[ \t]*(?:\n|[-–•*][ \t]))|(?<=:)[ \t]*\n")


def sentences(text: str) -> list[Cell]:
    """The text cut at full stops and semicolons, blank lines, list items and after a colon
    ending a line; a line wrapped inside a sentence (as PDFs and OCR print them) stays in it."""
    found, start = [], 0
    for end in [*(match.end() for match in SENTENCE_END.finditer(text)), len(text)]:
        piece = text[start:end]
        if piece.strip():
            found.append(Cell(piece, start))
        start = end
    return found


def amount_value(match: regex.Match, patterns: Patterns) -> int | float:
    """The euros an amount match says, its scale applied ("1,5 M€", "2 millions d'euros")."""
    word = match["scale"].split()[0] if match["scale"] else None
    factor = scale_of(word, patterns) if word else 1
    return parse_number(match["number"], match["cents"] or match["fraction"], factor)


def figures_and_words(
    sentence: Cell, patterns: Patterns, warnings: list[Warning] | None = None
) -> list[Figure]:
    """Amounts in figures and in words, in the order of the text; words with their figures in
    brackets, before or after them, are one amount, spanning both: "QUATRE CENT MILLE EUROS
    (400 000 €)", "400 000 € (quatre cent mille euros)"."""
    text = sentence.text
    found = [
        Figure(amount_value(m, patterns), m.start(), m.end(), "amounts.prose")
        for m in patterns.regex("values", "amount").finditer(text)
    ]
    for match in patterns.regex("values", "amount_in_words").finditer(text):
        value = words_to_number(match["words"]) or (
            parse_number(match["figure"]) if match["figure"] else None
        )
        twin = next((f for f in found if brackets_join(text, match.span(), (f.start, f.end))), None)
        if twin is None:
            if value:
                found.append(Figure(value, match.start(), match.end(), "amounts.words"))
            continue
        if value and value != twin.value and warnings is not None:
            warnings.append(warning("montant_lettres_different", words=value, figures=twin.value))
        start, end = min(twin.start, match.start()), max(twin.end, match.end())
        closing = re.match(r"[ \t]*\)", text[end:])
        end += closing.end() if closing else 0
        found[found.index(twin)] = Figure(twin.value, start, end, "amounts.words_and_figures")
    return [
        Figure(f.value, sentence.start + f.start, sentence.start + f.end, f.rule)
        for f in sorted(found, key=lambda f: f.start)
    ]


def brackets_join(text: str, words: tuple[int, int], figure: tuple[int, int]) -> bool:
    """Whether an amount in words and one in figures are one, the second in brackets after the
    first (or the figures inside the words: "vingt mille (20 000) euros")."""
    first, second = sorted([words, figure])
    if first[0] <= second[0] < first[1]:
        return True
    return bool(re.fullmatch(r"[ \t]*\([ \t]*", text[first[1] : second[0]]))
