"""Every output read back as a spreadsheet user or a program reads it: each code, date and
amount unchanged; nothing a spreadsheet would run as a formula; accents right when a CSV is
opened as its byte-order mark says."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLES
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from pipeline.batch import Options, run
from pipeline.dataset.package import validate_package
from pipeline.dataset.review import COLUMNS as REVIEW_COLUMNS
from pipeline.dataset.review import duration_words
from pipeline.dataset.tables import TABLES, columns, convention_id, schema, tables
from pipeline.dataset.write import FORMULA_STARTS, csv_value
from pipeline.read.files import shown

OPTIONS = Options(jobs=1, use_spacy=False)
# Names a spreadsheet would run, as OWASP's CSV injection page lists them; "/" cannot be in a
# file name, hence "-C" for "/C".
HOSTILE_NAMES = [
    '=HYPERLINK("http:x","clic").txt',
    "=cmd|' -C calc'!A0.txt",
    "+1+1.txt",
    "-2+3.txt",
    "@SUM(1).txt",
    "\tonglet.txt",
]
HOSTILE_FUNCTION = '=HYPERLINK("http://x","clic")'


def digits_only_text(text: str) -> str:
    """The text with a reference line that makes its id all digits, as 1 id in ~1,850 is."""
    for number in range(200_000):
        candidate = f"{text}\nRéférence interne {number}\n"
        if convention_id(candidate).isdigit():
            return candidate
    raise AssertionError("no all-digit id found")


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    """The samples, plus documents whose values spreadsheets reinterpret or run."""
    inbox = tmp_path_factory.mktemp("in")
    # Variants of two samples stand for them, each told apart by its NOR: the same convention is
    # read once.
    for path in SAMPLES:
        if path not in SAMPLES[2:4]:
            shutil.copy(path, inbox)
    dated = SAMPLES[3].read_text(encoding="utf-8")  # its domaine fonctionnel reads as a date: 0103-01-01
    (inbox / "codes.txt").write_text(digits_only_text(f"NOR : TEST0000001X\n{dated}"), encoding="utf-8")
    signed = SAMPLES[2].read_text(encoding="utf-8")
    for number, name in enumerate(HOSTILE_NAMES):
        text = signed.replace(
            "Directeur général des infrastructures, des transports et de la mer,", f"{HOSTILE_FUNCTION},", 1
        )
        (inbox / name).write_text(
            f"NOR : TEST{number + 2:07d}X\n{text}\nExemplaire {number}\n", encoding="utf-8"
        )
    out = tmp_path_factory.mktemp("out")
    run([inbox], out, OPTIONS)
    return out


@pytest.fixture(scope="module")
def records(outdir) -> list[dict]:
    return json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))


def expected_cells(records: list[dict]) -> dict[str, list[dict]]:
    """Each table's rows as the CSV writes them, from the records."""
    return {
        table: [{name: str(csv_value(row[name])) for name in columns(table)} for row in rows]
        for table, rows in tables(records).items()
    }


def test_the_documents_meant_to_be_reinterpreted_are_in_the_dataset(records):
    by_file = {record["fichier_source"]: record for record in records}
    codes = by_file["codes.txt"]
    assert codes["id"].isdigit() and codes["domaine_fonctionnel"] == "0103-01-01"
    assert by_file[SAMPLES[0].name]["activite"] == "014801030104"
    for name in HOSTILE_NAMES:
        assert by_file[shown(name)]["delegant"]["representant"]["fonction"] == HOSTILE_FUNCTION


@pytest.mark.parametrize("table", TABLES)
def test_published_csv_read_with_the_csv_module_gives_back_every_cell(outdir, records, table):
    with open(outdir / f"{table}.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == expected_cells(records)[table]


@pytest.mark.parametrize("table", TABLES)
def test_published_csv_read_with_pandas_gives_back_every_cell(outdir, records, table):
    frame = pd.read_csv(outdir / f"{table}.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    assert list(frame.columns) == columns(table)
    assert frame.to_dict("records") == expected_cells(records)[table]


def test_published_csv_start_with_a_byte_order_mark_and_still_validate(outdir):
    for table in TABLES:
        assert (outdir / f"{table}.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert validate_package(outdir / "datapackage.json") == []


def test_json_and_published_csv_keep_hostile_values_as_they_are(outdir, records):
    files = {record["fichier_source"] for record in records}
    assert {shown(name) for name in HOSTILE_NAMES} <= files
    published = pd.read_csv(outdir / "conventions.csv", dtype=str, keep_default_na=False)
    assert {shown(name) for name in HOSTILE_NAMES} <= set(published.fichier_source)
    assert HOSTILE_FUNCTION in set(published.delegant_representant_fonction)


def typed_cell(table: str, name: str, value: object) -> object:
    """What openpyxl reads back from the workbook for a value of the dataset."""
    kind = next(field["type"] for field in schema(table)["fields"] if field["name"] == name)
    if value is None or value == "":
        return None  # an empty cell
    if kind == "date":
        return datetime.combine(date.fromisoformat(value), datetime.min.time())
    if name in ("duree", "preavis"):
        return duration_words(value)
    return value


def column_names(book) -> dict[str, dict[str, str]]:
    """Per sheet, the CSV column each French header stands for, as the sheet "Colonnes" says."""
    found: dict[str, dict[str, str]] = {}
    for sheet, title, column, _ in book["Colonnes"].iter_rows(min_row=2, values_only=True):
        found.setdefault(sheet, {})[title] = column
    return found


# LibreOffice has no boolean cells: it saves true and false as these formulas.
LIBREOFFICE_BOOLEANS = {"=TRUE()": True, "=FALSE()": False}


def read_back(cell) -> object:
    return LIBREOFFICE_BOOLEANS.get(cell.value, cell.value) if cell.data_type == "f" else cell.value


def assert_sheets_match_the_records(book, records: list[dict]) -> None:
    names = column_names(book)
    for table, rows in tables(records).items():
        sheet = book[table]
        header = [names[table][cell.value] for cell in sheet[1]]
        assert sorted(header) == sorted(columns(table))
        cells = list(sheet.iter_rows(min_row=2))
        assert len(cells) == len(rows)
        for row, read in zip(rows, cells, strict=True):
            for name, cell in zip(header, read, strict=True):
                expected, value = typed_cell(table, name, row[name]), read_back(cell)
                assert value == expected, f"{table}.{name}: {value!r} != {expected!r}"
                assert type(value) is type(expected) or (
                    isinstance(expected, int | float) and isinstance(value, int | float)
                )
                if isinstance(expected, str):
                    assert cell.data_type == "s"
                if isinstance(expected, str) and (
                    expected[:1].isdigit() or expected.startswith(FORMULA_STARTS)
                ):
                    assert cell.number_format == "@", f"{table}.{name}: {expected!r} not formatted as text"


def test_workbook_gives_back_every_cell_with_its_type(outdir, records):
    assert_sheets_match_the_records(load_workbook(outdir / "conventions.xlsx"), records)


def test_workbook_shows_dates_as_dates_amounts_in_euros_durations_and_flags_in_words(outdir):
    sheet = load_workbook(outdir / "conventions.xlsx")["conventions"]
    header = [cell.value for cell in sheet[1]]
    signed = [row[header.index("Date de signature")] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.is_date and cell.number_format == "DD/MM/YYYY" for cell in signed if cell.value)
    amounts = [row[header.index("Montant total")] for row in sheet.iter_rows(min_row=2)]
    assert all("€" in cell.number_format for cell in amounts if cell.value is not None)
    durations = {row[header.index("Préavis")].value for row in sheet.iter_rows(min_row=2)}
    assert "3 mois" in durations
    signed = load_workbook(outdir / "conventions.xlsx")["signataires"]
    header = [cell.value for cell in signed[1]]
    flags = [row[header.index("Par délégation")] for row in signed.iter_rows(min_row=2)]
    assert flags and all(cell.number_format == '"oui";"oui";"non"' for cell in flags)


@pytest.mark.parametrize("name", ["À vérifier", *TABLES])
def test_each_sheet_names_its_columns_in_french_identifiers_last_and_hidden(outdir, name):
    book = load_workbook(outdir / "conventions.xlsx")
    sheet = book[name]
    header = [cell.value for cell in sheet[1]]
    keys = [column_names(book)[name][title] for title in header]
    assert header[0] == "Fichier source" and "_" not in "".join(header)
    technical = [index for index, key in enumerate(keys) if key in ("id", "convention_id", "cle", "regle")]
    assert technical == list(range(len(keys) - len(technical), len(keys))) and technical
    hidden = {key for key, dimension in sheet.column_dimensions.items() if dimension.hidden}
    assert hidden == {get_column_letter(index + 1) for index in technical}


@pytest.mark.parametrize("name", ["À vérifier", *TABLES, "Colonnes"])
def test_each_sheet_prints_landscape_as_wide_as_pages_read_with_its_header_on_every_page(outdir, name):
    sheet = load_workbook(outdir / "conventions.xlsx")[name]
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToHeight == 0 and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"
    pages = sheet.page_setup.fitToWidth
    assert pages == 1 if name in ("montants", "signataires") else pages >= 1
    assert sheet.print_title_cols == ("$A:$A" if pages > 1 else None)


def test_no_cell_of_the_workbook_is_a_formula(outdir):
    book = load_workbook(outdir / "conventions.xlsx")
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}"
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    seen.add(sheet.title)
    assert seen == {"À vérifier", "conventions", "montants", "signataires", "parties"}


def spreadsheet_cells(path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def test_review_csv_defuses_formulas(outdir):
    cells = spreadsheet_cells(outdir / "review.csv")
    assert cells[: len(REVIEW_COLUMNS)] == REVIEW_COLUMNS
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert f"'{HOSTILE_NAMES[1]}" in cells


def test_errors_csv_defuses_formulas(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "=1+1 vide.txt").write_bytes(b"")
    run([Path("=1+1 vide.txt")], tmp_path / "out", OPTIONS)
    cells = spreadsheet_cells(tmp_path / "out" / "errors.csv")
    assert cells[3:] == ["'=1+1 vide.txt", "fichier_vide", "fichier vide"]


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        pytest.skip("LibreOffice absent : « sudo apt-get install -y libreoffice-calc-nogui » pour ce test")
    return found


def converted(source, target_dir, *options: str):
    subprocess.run(
        [soffice(), "--headless", *options, "--convert-to", "xlsx", "--outdir", str(target_dir), str(source)],
        check=True,
        capture_output=True,
        timeout=180,
        env={"HOME": str(target_dir), "PATH": "/usr/bin:/bin"},
    )
    return load_workbook(target_dir / f"{source.stem}.xlsx")


@pytest.mark.slow
def test_libreoffice_reads_the_workbook_with_every_cell_unchanged(outdir, records, tmp_path):
    book = converted(outdir / "conventions.xlsx", tmp_path)
    assert book.sheetnames[0] == "À vérifier"
    assert_sheets_match_the_records(book, records)
    formulas = [c.value for s in book.worksheets for r in s.iter_rows() for c in r if c.data_type == "f"]
    assert set(formulas) <= set(LIBREOFFICE_BOOLEANS)


@pytest.mark.slow
def test_libreoffice_imports_a_csv_as_utf_8_with_its_accents_and_a_clean_header(outdir, records, tmp_path):
    book = converted(outdir / "conventions.csv", tmp_path, "--infilter=CSV:44,34,76,1")
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    assert header == columns("conventions")
    names = [row[header.index("delegant_nom")].value for row in sheet.iter_rows(min_row=2)]
    assert names == [record["delegant"]["nom"] for record in records]
