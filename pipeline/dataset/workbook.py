"""conventions.xlsx: the dataset's tables for spreadsheet users. Doubtful cells are highlighted
and corrected ones tinted, each with its evidence and reasons in the cell's comment (comments
on every cell would triple the time to write the file: the whole evidence is in review.html)."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from pipeline.dataset.review import Field, fields_of, shown
from pipeline.dataset.tables import columns, tables

DOUBTFUL = PatternFill("solid", fgColor="FDE68A")
CORRECTED = PatternFill("solid", fgColor="BBF7D0")
HEADER = Font(bold=True)
COMMENT_CHARS = 400


def by_column(fields: list[Field]) -> dict[str, list[Field]]:
    """The fields each conventions.csv column shows: "delegant.sigle" in delegant_sigle, every
    "produits.N" in produits; amount and signatory lines have their own sheets."""
    columns: dict[str, list[Field]] = {}
    for field in fields:
        parts = field.key.split(".")
        if parts[0] == "produits":
            columns.setdefault("produits", []).append(field)
        elif parts[0] not in ("montants", "signataires"):
            columns.setdefault("_".join(parts), []).append(field)
    return columns


def styled(sheet: WriteOnlyWorksheet, value: object, fields: list) -> WriteOnlyCell | object:
    """The cell, highlighted with its notes when a field in it is doubtful or corrected; the
    plain value otherwise, which openpyxl writes faster."""
    if not any(f.doubtful or f.corrected for f in fields):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if any(f.doubtful for f in fields):
        cell.fill = DOUBTFUL
    elif any(f.corrected for f in fields):
        cell.fill = CORRECTED
    notes = [note(f) for f in fields if f.evidence and (f.doubtful or f.corrected)]
    if notes:
        cell.comment = Comment("\n\n".join(notes)[: COMMENT_CHARS * 2], "conventions-extract")
    return cell


def note(field: Field) -> str:
    entry = field.evidence
    if field.corrected:
        return f"Corrigé ({entry['rule']}), valeur extraite : {shown(entry.get('previous'))}"
    page = f", page {entry['page']}" if entry.get("page") else ""
    lines = [
        f"« {' '.join(entry['text'].split())[:COMMENT_CHARS]} »",
        f"confiance {entry['confidence']}{page}",
    ]
    return "\n".join(lines + field.reasons)


def header_cells(sheet: WriteOnlyWorksheet, names: list[str]) -> list[WriteOnlyCell]:
    cells = [WriteOnlyCell(sheet, value=name) for name in names]
    for cell in cells:
        cell.font = HEADER
    return cells


def workbook_bytes(records: list[dict], settings: dict) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("conventions")
    header = columns("conventions")
    sheet.append(header_cells(sheet, header))
    rows = tables(records)
    for record, row in zip(records, rows["conventions"], strict=True):
        fields = by_column(fields_of(record, settings))
        sheet.append([styled(sheet, row[name], fields.get(name, [])) for name in header])
    for name in ("montants", "signataires"):
        child = book.create_sheet(name)
        names = columns(name)
        child.append(header_cells(child, names))
        for row in rows[name]:
            child.append([row[column] for column in names])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
