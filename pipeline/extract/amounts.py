"""Amounts of credits: from AE/CP tables, or from prose, in figures or in words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import regex

from pipeline.extract.values import parse_number, words_to_number
from pipeline.model import Candidate, Document
from pipeline.patterns import Patterns


@dataclass(frozen=True, slots=True)
class Amount:
    annee: int | None
    type_credit: str | None
    montant: int | float
    produit: str | None
    estimation: bool


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    start: int  # offset in Document.text


def extract_amounts(doc: Document, patterns: Patterns) -> list[Candidate]:
    found = table_amounts(doc, patterns)
    return found or prose_amounts(doc, patterns)


def lines_of(text: str) -> list[Cell]:
    return [Cell(m[0], m.start()) for m in re.finditer(r"[^\n]*", text) if m[0].strip()]


def tab_lines(text: str) -> Iterator[Cell]:
    """The lines that hold a tab: the rows of the tables."""
    tab = text.find("\t")
    while tab != -1:
        start = text.rfind("\n", 0, tab) + 1
        end = text.find("\n", tab)
        end = len(text) if end == -1 else end
        yield Cell(text[start:end], start)
        tab = text.find("\t", end)


def cells_of(line: Cell) -> list[Cell]:
    cells, position = [], line.start
    for part in line.text.split("\t"):
        cells.append(Cell(part, position))
        position += len(part) + 1
    return cells


def header_key(text: str, patterns: Patterns) -> tuple[str, object] | None:
    """What a header or row label names: ("type", "AE") or ("year", 2020)."""
    for kind in patterns["amounts"]["credit_types"]:
        if patterns.regex("amounts", "credit_types", kind).match(text.strip()):
            return ("type", kind)
    year = patterns.regex("amounts", "year").match(text.strip())
    if year:
        return ("year", int(year["year"]))
    return None


def table_amounts(doc: Document, patterns: Patterns) -> list[Candidate]:
    """Amounts in tables: header cells name the years or kinds of credit of their columns, the
    first cell of a row the other; a line that is not a table row ends the table."""
    found, columns, after = [], None, 0
    for line in tab_lines(doc.plain):
        if doc.plain[after : line.start].strip():
            columns = None
        after = line.start + len(line.text)
        cells = cells_of(line)
        keys = [header_key(cell.text, patterns) for cell in cells[1:]]
        if any(keys) and not any(amounts_in(doc, c, patterns) for c in cells):
            columns = keys
            continue
        row = header_key(cells[0].text, patterns)
        if columns and row:
            found += row_amounts(doc, patterns, row, columns, cells[1:])
    return found


def row_amounts(doc, patterns, row, columns, cells) -> list[Candidate]:
    found = []
    for key, cell in zip(columns, cells, strict=False):
        if not key or key[0] == row[0]:
            continue
        labels = dict([row, key])
        for amount, start, end, product, estimate in amounts_in(doc, cell, patterns):
            value = Amount(labels.get("year"), labels.get("type"), amount, product, estimate)
            found.append(Candidate(value, doc.evidence(start, end), 0.9, "amounts.table"))
    return found


def amounts_in(doc: Document, cell: Cell, patterns: Patterns) -> list[tuple]:
    """Each amount of a cell: (value, start, end, product named before it, estimate)."""
    found, previous = [], 0
    for match in patterns.regex("values", "amount").finditer(cell.text):
        before = cell.text[previous : match.start()]
        product = patterns.regex("amounts", "product").search(before)
        estimate = patterns.regex("amounts", "estimation_after").match(cell.text, match.end())
        previous = estimate.end() if estimate else match.end()
        found.append(
            (
                amount_value(match, patterns),
                cell.start + match.start(),
                cell.start + match.end(),
                product["product"] if product else None,
                bool(estimate),
            )
        )
    return found


def prose_amounts(doc: Document, patterns: Patterns) -> list[Candidate]:
    found: dict[Amount, Candidate] = {}
    for sentence in sentences(doc.plain):
        if not patterns.regex("amounts", "money_context").search(sentence.text):
            continue
        years = [(*span, int(m["year"])) for span, m in said(sentence, patterns, "year_in_text")]
        kinds = [
            (*span, kind)
            for kind in patterns["amounts"]["credit_types_in_text"]
            for span, _ in said(sentence, patterns, "credit_types_in_text", kind)
        ]
        amounts = [a for a in figures_and_words(sentence, patterns) if not replaced(doc, a[1], patterns)]
        for value, start, end, rule in amounts:
            estimate = bool(patterns.regex("amounts", "estimation_after").match(doc.plain, end))
            # "1 250 000 euros en AE et en CP": one amount, both kinds of credit.
            both = len(amounts) == 1 and len({kind for *_, kind in kinds}) == 2
            for kind in ("AE", "CP") if both else (nearest(kinds, start, end),):
                amount = Amount(nearest(years, start, end), kind, value, None, estimate)
                found.setdefault(amount, Candidate(amount, doc.evidence(start, end), 0.75, rule))
    return list(found.values())


def replaced(doc: Document, start: int, patterns: Patterns) -> bool:
    """Whether an avenant says the amount is the one it replaces."""
    window = max(0, start - patterns["amounts"]["replaced_window"])
    return bool(patterns.search(doc, "amounts", "replaced_before", start=window, end=start))


def said(sentence: Cell, patterns: Patterns, *keys: str) -> list[tuple[tuple[int, int], regex.Match]]:
    """Each match of a rule in a sentence, with its offsets in the document."""
    found = patterns.regex("amounts", *keys).finditer(sentence.text)
    return [((sentence.start + m.start(), sentence.start + m.end()), m) for m in found]


def nearest(said: list[tuple[int, int, object]], start: int, end: int) -> object:
    """What is said closest to an amount: "250 000 € au titre de 2021 et 300 000 € au titre
    de 2022" gives each its own year; of two things as close, the one after the amount ("… en
    AE et 800 000 € en CP"); None when they are as close on the same side."""
    if not said:
        return None
    gaps = sorted((max(begin - end, start - finish), begin < start, value) for begin, finish, value in said)
    if len(gaps) > 1 and gaps[0][:2] == gaps[1][:2] and gaps[0][2] != gaps[1][2]:
        return None
    return gaps[0][2]


def sentences(text: str) -> list[Cell]:
    return [Cell(m[0], m.start()) for m in re.finditer(r"[^.;\n]+(?:\.(?=\d)[^.;\n]+)*", text)]


def amount_value(match: regex.Match, patterns: Patterns) -> int | float:
    """The euros an amount match says, its scale applied ("1,5 M€", "2 millions d'euros")."""
    scales = patterns["values"]["scales"]
    word = match["scale"].split()[0] if match["scale"] else None
    factor = (scales[word] if word in scales else scales[word.lower()]) if word else 1
    return parse_number(match["number"], match["cents"], factor)


def figures_and_words(sentence: Cell, patterns: Patterns) -> list[tuple]:
    """Amounts in figures, then those only in words; "100 000 € (CENT MILLE EUROS)" is one."""
    found = []
    for match in patterns.regex("values", "amount").finditer(sentence.text):
        value = amount_value(match, patterns)
        found.append((value, sentence.start + match.start(), sentence.start + match.end(), "amounts.prose"))
    figures = {item[0] for item in found}
    for match in patterns.regex("values", "amount_in_words").finditer(sentence.text):
        value = words_to_number(match["words"])
        if value and value not in figures:
            found.append(
                (value, sentence.start + match.start(), sentence.start + match.end(), "amounts.words")
            )
    return found


def total_amount(doc: Document, amounts: list[Candidate], patterns: Patterns) -> Candidate | None:
    """The stated total, or else the sum of AE (or of amounts with no type, or of CP)."""
    for match in patterns.finditer(doc, "amounts", "total"):
        figure = patterns.regex("values", "amount").match(doc.plain, match.end())
        if figure:
            value = amount_value(figure, patterns)
            return Candidate(value, doc.evidence(*figure.span()), 0.9, "amounts.total_stated")
    for kind in ("AE", None, "CP"):
        chosen = [c for c in amounts if c.value.type_credit == kind]
        if chosen:
            total = sum(c.value.montant for c in chosen)
            first = chosen[0].evidence
            return Candidate(total, first, 0.8, f"amounts.total_of_{kind or 'untyped'}")
    return None
