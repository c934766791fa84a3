"""Every word the data officer reads is French: the command line, the warnings and reasons in
the dataset, the errors report, the workbook and the review page."""

from __future__ import annotations

import csv
import re
import shutil

import pytest
from click.testing import CliRunner
from conftest import SAMPLES
from openpyxl import load_workbook

from pipeline.cli import cli

# Common English words that French does not use: one of them in a message is English left over.
WORDS = """the of and not found low confidence file files error errors is are with without for from
    this that these row rows column columns missing invalid value values field fields applied
    extracted check checked dataset run show exit usage commands help read written write such
    unknown required default path does exist directory folder warning warnings should must cannot
    could would only each every none empty too large encrypted broken duplicate internal
    unexpected name names signed review doubtful corrected previous publish published failed be
    was were has have it its which what when where how why yes true false left blank click open
    save line lines number amount amounts first second try got extra abort aborted see"""
ENGLISH = set(WORDS.split())
# Names a user types as they are: commands, options, files, variables, and quoted document text.
VERBATIM = re.compile(
    r"«[^»]*»|--?[\w-]+|\S*[./_=@\\]\S*|\b[A-Z][A-Z0-9]+\b|\b(extract|publish|review|docs)\b"
)


def english_words(text: str) -> set[str]:
    return set(re.findall(r"[a-zà-ÿ]+", VERBATIM.sub(" ", text).lower())) & ENGLISH


def test_the_scanner_finds_english_left_over():
    assert english_words("low confidence (about.object.1)") == {"low", "confidence"}
    assert english_words("date de signature laissée en blanc « Fait the … »") == set()


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    inbox = tmp_path_factory.mktemp("in")
    for path in SAMPLES:
        shutil.copy(path, inbox)
    shutil.copy(SAMPLES[0], inbox / "copie.txt")
    (inbox / "vide.txt").write_bytes(b"")
    (inbox / "roman.txt").write_text(
        "Il était une fois, au bord de la mer, un pêcheur.\n" * 50, encoding="utf-8"
    )
    (inbox / "binaire.txt").write_bytes(bytes(range(256)) * 40)
    (inbox / "corrections.csv").write_text(
        "fichier_source,champ,valeur\n"
        f"{SAMPLES[2].name},Délégant · sigle,DGITM\n"
        f"{SAMPLES[2].name},Date de fin,bientôt\n"
        f"{SAMPLES[2].name},couleur,bleu\n"
        f"{SAMPLES[2].name},Montant total,nan\n"
        "absent.pdf,Objet,rien\n"
        "ligne,cassée\n",
        encoding="utf-8",
    )
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(cli, ["-v", "extract", str(inbox), "-o", str(out), "--no-spacy", "-j", "1"])
    assert result.exit_code == 1
    return out, result.output


def test_the_terminal_speaks_french(outdir):
    _, output = outdir
    assert "correction non appliquée" in output and "fichier_vide" in output
    assert english_words(output) == set()


def cells(path, names: list[str]) -> list[str]:
    with open(path, encoding="utf-8-sig") as handle:
        return [row[name] for row in csv.DictReader(handle) for name in names]


def test_warnings_reasons_and_errors_are_french(outdir):
    out, _ = outdir
    texts = cells(out / "conventions.csv", ["avertissements"])
    texts += cells(out / "review.csv", ["champ", "priorite", "raison", "confiance"])
    texts += cells(out / "errors.csv", ["type_erreur", "message"])
    assert len([text for text in texts if text]) > 10
    assert {text: english_words(text) for text in texts if english_words(text)} == {}


def test_the_workbook_speaks_french(outdir):
    out, _ = outdir
    book = load_workbook(out / "conventions.xlsx")
    texts = list(book.sheetnames)
    for sheet in book.worksheets:
        texts += [cell.comment.text for row in sheet.iter_rows() for cell in row if cell.comment]
        texts += [cell.value for cell in sheet[1]]
    review = book["À vérifier"]
    header = [cell.value for cell in review[1]]
    for name in ("Champ", "Priorité", "Raison", "Confiance"):
        texts += [row[header.index(name)].value or "" for row in review.iter_rows(min_row=2)]
    assert len(texts) > 10
    assert {text: english_words(text) for text in texts if english_words(text)} == {}


def page_texts(page, html) -> list[str]:
    page.goto(html.as_uri())
    for toggle in page.locator(".toggle").all():
        toggle.click()
    page.locator(".field.doubtful .name").first.click()
    texts = [page.locator("header").inner_text(), page.locator("#notices").inner_text()]
    texts += page.locator(".badges, .warnings, .field .name, .field .conf, .actions").all_inner_texts()
    return [*texts, page.locator("#evidence").inner_text(), page.locator("#warning-filter").inner_text()]


@pytest.mark.browser
def test_the_review_page_speaks_french(outdir):
    browser = pytest.importorskip("pipeline.dataset.browser")
    out, _ = outdir
    try:
        with browser.browser_page() as page:
            texts = page_texts(page, out / "review.html")
    except browser.BrowserMissing as missing:
        pytest.skip(str(missing))
    assert "non appliquée" in texts[1]
    assert {text: english_words(text) for text in texts if english_words(text)} == {}


@pytest.mark.parametrize("args", [[], ["extract"], ["publish"], ["review"], ["docs"]])
def test_command_help_is_french(args):
    result = CliRunner().invoke(cli, [*args, "--help"], prog_name="conventions-extract")
    assert result.exit_code == 0
    assert english_words(result.output) == set()


@pytest.mark.parametrize(
    "args",
    [
        ["extract"],
        ["extract", "/nulle/part"],
        ["extract", ".", "--jobs", "beaucoup"],
        ["extract", ".", "--couleur"],
        ["extrait"],
        ["extract", ".", "-o"],
    ],
)
def test_command_line_mistakes_are_explained_in_french(args):
    result = CliRunner().invoke(cli, args, prog_name="conventions-extract")
    assert result.exit_code == 2
    assert "Erreur :" in result.output
    assert english_words(result.output) == set()
