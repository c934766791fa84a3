"""conventions.xlsx: the dataset for spreadsheet users. A first sheet, "À vérifier", lists what
needs a look, most urgent first; then one sheet per table, its columns named in French (the
"Colonnes" sheet, last, gives the column of the CSV each name stands for), its header frozen,
filtered and repeated on each printed page, its columns fitted, dates as dates, amounts in euros,
durations in words, identifiers last and hidden, and every text, codes included, as text (never a
formula, whatever it starts with). Each sheet prints landscape, as wide as the page. Doubtful
cells are yellow and corrected ones green, each with its evidence and reasons in a comment. The
book is written row by row (openpyxl's write-only mode), in memory that does not grow with it."""

from __future__ import annotations

import io
import math
from datetime import date

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from pipeline.dataset.review import (
    COLUMNS,
    DURATION,
    Field,
    column_of,
    confidence_words,
    display,
    duration_words,
    label,
    review_rows,
    spec,
)
from pipeline.dataset.tables import columns, tables
from pipeline.dataset.write import FORMULA_STARTS

TO_REVIEW = "À vérifier"
COLUMN_SHEET = "Colonnes"
# The columns of the sheet "À vérifier" (review.csv's), in words.
REVIEW_COLUMNS = {
    "fichier_source": ("Fichier source", "Nom du fichier lu."),
    "champ": ("Champ", "Le champ à vérifier."),
    "valeur": ("Valeur extraite", "La valeur lue, telle qu'un lecteur l'écrit."),
    "priorite": ("Priorité", "1 - haute, 2 - moyenne ou 3 - basse."),
    "raison": ("Raison", "Pourquoi la valeur est à vérifier."),
    "confiance": ("Confiance", "La confiance de la règle qui a lu la valeur, en mots."),
    "extrait": ("Extrait du texte", "Le passage du texte dont la valeur est tirée."),
    "page": ("Page", "La page du passage, pour un PDF."),
    "cle": ("Clé", "Le champ, tel que corrections.csv peut aussi le nommer."),
    "regle": ("Règle", "La règle qui a lu la valeur."),
}
TECHNICAL = ("id", "convention_id", "cle", "regle")  # for programs: last, and hidden
DURATIONS = {"duree", "preavis"}
LANDSCAPE, A4 = "landscape", 9
PAGE_CHARACTERS = 150  # of column width a landscape A4 page prints readably
DOUBTFUL = PatternFill("solid", fgColor="FDE68A")
CORRECTED = PatternFill("solid", fgColor="BBF7D0")
HEADER = Font(bold=True)
EUROS = '#,##0.00\\ "€"'
DAY = "DD/MM/YYYY"
TEXT = "@"
YES_NO = '"oui";"oui";"non"'  # a boolean in words where the spreadsheet shows it as a number
WIDTH = (6, 50)  # characters, the narrowest and widest column
COMMENT_CHARS = 400
MAIN = {"montants": "montant", "signataires": "nom", "parties": "nom"}  # the cell a doubtful line marks
FROZEN = "B2"  # below the header, right of the column naming the file


def workbook_bytes(reviewed: list[tuple[dict, list[Field]]], settings: dict) -> bytes:
    """The workbook of the records and their fields (review.reviewed_fields)."""
    book = Workbook(write_only=True)
    records = [record for record, _ in reviewed]
    write_sheet(book, TO_REVIEW, COLUMNS, review_rows(reviewed, settings), {}, settings)
    marks = cell_marks(reviewed)
    for table, rows in tables(records).items():
        write_sheet(book, table, columns(table), rows, marks.get(table, {}), settings)
    write_column_sheet(book, [TO_REVIEW, *tables(records)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_sheet(
    book: Workbook, name: str, header: list[str], rows: list[dict], marks: dict, settings: dict
) -> None:
    """One sheet, its columns named in French, the technical ones last and hidden."""
    header = [column for column in header if column not in TECHNICAL] + [
        column for column in header if column in TECHNICAL
    ]
    names = [title(name, column) for column in header]
    sheet = book.create_sheet(name)
    fitted = widths(names, header, rows)
    for index, (column, width) in enumerate(zip(header, fitted, strict=True), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.column_dimensions[get_column_letter(index)].hidden = column in TECHNICAL
    sheet.freeze_panes = FROZEN
    shown = sum(width for column, width in zip(header, fitted, strict=True) if column not in TECHNICAL)
    set_up_printing(sheet, math.ceil(shown / PAGE_CHARACTERS))
    sheet.append([header_cell(sheet, text) for text in names])
    for number, row in enumerate(rows):
        sheet.append(
            [
                cell(sheet, name, column, row.get(column), marks.get((number, column)), settings)
                for column in header
            ]
        )
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"


def set_up_printing(sheet: WriteOnlyWorksheet, pages: int = 1) -> None:
    """Landscape A4, the header row on every page, as wide as the page, or as `pages` pages for a
    sheet too wide to read on one: each then starts with the first column."""
    sheet.page_setup.orientation = LANDSCAPE
    sheet.page_setup.paperSize = A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = max(1, pages), 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    if pages > 1:
        sheet.print_title_cols = "A:A"


def title(sheet: str, column: str) -> str:
    if sheet == TO_REVIEW:
        return REVIEW_COLUMNS[column][0]
    return (spec(sheet, column) or {}).get("title") or column


def write_column_sheet(book: Workbook, sheets: list[str]) -> None:
    """Each column of each sheet: its name there, the CSV column it is, what it holds."""
    rows = [
        {
            "feuille": name,
            "intitule": title(name, column),
            "colonne": column,
            "description": REVIEW_COLUMNS[column][1]
            if name == TO_REVIEW
            else spec(name, column)["description"],
        }
        for name in sheets
        for column in (COLUMNS if name == TO_REVIEW else columns(name))
    ]
    header = {
        "feuille": "Feuille",
        "intitule": "Intitulé",
        "colonne": "Colonne",
        "description": "Description",
    }
    sheet = book.create_sheet(COLUMN_SHEET)
    for index, width in enumerate(widths(list(header.values()), list(header), rows), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = FROZEN
    set_up_printing(sheet)
    sheet.append([header_cell(sheet, text) for text in header.values()])
    for row in rows:
        sheet.append([text(sheet, row[key]) for key in header])
    sheet.auto_filter.ref = f"A1:D{len(rows) + 1}"


def widths(names: list[str], header: list[str], rows: list[dict]) -> list[float]:
    """Each column as wide as most of its values (the longest tenth are cut), within WIDTH."""
    fitted = []
    for name, column in zip(names, header, strict=True):
        lengths = sorted(len(str(row.get(column) or "")) for row in rows)
        typical = lengths[int(len(lengths) * 0.9)] if lengths else 0
        fitted.append(min(WIDTH[1], max(WIDTH[0], len(name) + 2, typical + 2)))
    return fitted


def header_cell(sheet: WriteOnlyWorksheet, name: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=name)
    cell.font = HEADER
    return cell


def cell(
    sheet: WriteOnlyWorksheet, table: str, column: str, value: object, marks: list | None, settings: dict
) -> WriteOnlyCell | object:
    """The value as its column types it; a plain value, which openpyxl writes faster, when it
    needs neither a format nor a mark."""
    field = spec(table, column) or {}
    kind = field.get("type")
    if value is None or value == "":
        value = None
    elif kind == "date" and isinstance(value, str):
        value = as_date(sheet, value)
    elif column in DURATIONS and isinstance(value, str) and DURATION.fullmatch(value):
        value = text(sheet, duration_words(value))
    elif isinstance(value, int | float) and not isinstance(value, bool) and kind != "string":
        value = WriteOnlyCell(sheet, value=value)
        value.number_format = EUROS if column in ("montant", "montant_total") else "0"
    elif isinstance(value, bool):
        value = WriteOnlyCell(sheet, value=value)
        value.number_format = YES_NO
    elif isinstance(value, str):
        value = text(sheet, value)
    if not marks:
        return value
    cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value=value)
    highlight(cell, marks, settings)
    return cell


def text(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell | str:
    """A text stays text, even when it reads as a number ("014801030104"), a date ("0103-01-01")
    or a formula ("=HYPERLINK(…)"): such a one is typed as a string and formatted as text, so
    that editing it in a spreadsheet keeps it so."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if not value[:1].isdigit() and not value.startswith(FORMULA_STARTS):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.number_format = TEXT
    return cell


def as_date(sheet: WriteOnlyWorksheet, value: str) -> WriteOnlyCell:
    try:
        cell = WriteOnlyCell(sheet, value=date.fromisoformat(value))
    except ValueError:
        return text(sheet, value)
    cell.number_format = DAY
    return cell


def highlight(cell: WriteOnlyCell, marks: list[tuple[Field, str | None]], settings: dict) -> None:
    """Yellow for a doubtful cell, else green for a corrected one; its notes in a comment."""
    doubtful = any(field.doubtful for field, _ in marks)
    cell.fill = DOUBTFUL if doubtful else CORRECTED
    notes = "\n\n".join(note(field, part, settings) for field, part in marks)
    comment = Comment(notes[: COMMENT_CHARS * 2], "conventions-extract")
    comment.width, comment.height = 320, 40 + 15 * min(20, notes.count("\n") + len(notes) // 45)
    cell.comment = comment


def note(field: Field, part: str | None, settings: dict) -> str:
    """What the comment says of a field: its source text and why it is doubtful, or who
    corrected it and what was extracted before."""
    name = label(part or field.key)
    if field.corrected:
        entry = dict(field.fixes).get(part) if part else field.evidence
        entry = entry or field.evidence or {}
        words = confidence_words(field, settings["threshold"])
        previous = display(part or field.key, entry.get("previous"))
        return f"{name} : {words} ({entry.get('rule')}) ; valeur extraite : {previous or 'vide'}"
    lines = [f"{name} : {' ; '.join(field.reasons)}"]
    entry = field.evidence
    if entry:
        page = f", page {entry['page']}" if entry.get("page") else ""
        confidence = f"{entry['confidence']:.2f}".replace(".", ",")
        lines.append(f"confiance {confidence}{page}")
        lines.append(f"« {' '.join(entry['text'].split())[:COMMENT_CHARS]} »")
    return "\n".join(lines)


def cell_marks(reviewed: list[tuple[dict, list[Field]]]) -> dict[str, dict]:
    """The fields to show on each cell, by table, then by (row, column): a record's fields on
    its conventions row, a line's on the row of that line."""
    marks: dict[str, dict] = {}
    offsets: dict[str, int] = {}
    for number, (record, fields) in enumerate(reviewed):
        for field in fields:
            for table, line, column, part in places(field):
                row = number if table == "conventions" else offsets.get(table, 0) + line
                marks.setdefault(table, {}).setdefault((row, column), []).append((field, part))
        for table in MAIN:
            if isinstance(record.get(table), list):
                offsets[table] = offsets.get(table, 0) + len(record[table])
    return marks


def places(field: Field) -> list[tuple[str, int, str, str | None]]:
    """Where a doubtful or corrected field shows: (table, line, column, the part corrected)."""
    if not (field.doubtful or field.corrected):
        return []
    parts = field.key.split(".")
    if parts[0] in MAIN and len(parts) == 2 and parts[1].isdigit():
        line = int(parts[1])
        if field.fixes:
            return [(parts[0], line, column_of(key)[1], key) for key, _ in field.fixes]
        return [(parts[0], line, MAIN[parts[0]], None)]
    if parts[0] in MAIN:
        return []  # a line removed: no cell left to show it on
    return [("conventions", 0, column_of(field.key)[1], None)]
