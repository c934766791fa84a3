"""The officer's review: doubtful fields listed with their evidence, a page that shows them in
the text, a workbook that highlights them, and corrections that stick."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from click.testing import CliRunner
from conftest import SAMPLES
from openpyxl import load_workbook

from pipeline.batch import Options, run
from pipeline.cli import cli
from pipeline.dataset.corrections import Correction, apply_corrections

OPTIONS = Options(jobs=1, use_spacy=False, use_cache=True)
BLANK_DATE = "004_18e5c938af976e70.txt"  # its signature date is left blank
INITIALS = "002_d40404dbd0e9c007.txt"  # its delegant's sigle is made from initials


def rows_of(path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def records_of(outdir) -> dict[str, dict]:
    records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
    return {record["fichier_source"]: record for record in records}


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("reviewed")
    run(SAMPLES, outdir, OPTIONS)
    return outdir


def test_review_lists_low_confidence_and_missing_fields_with_their_evidence(reviewed):
    rows = {(row["fichier_source"], row["champ"]): row for row in rows_of(reviewed / "review.csv")}
    missing = rows[(BLANK_DATE, "date_signature")]
    assert missing["raison"] == "not found in the text"
    guessed = rows[(INITIALS, "delegant.sigle")]
    assert guessed["valeur"] == "DGITM"
    assert float(guessed["confiance"]) < 0.75
    assert guessed["extrait"] and guessed["page"] == "1"


def test_every_field_below_the_threshold_is_in_the_review(reviewed):
    listed = {(row["fichier_source"], row["champ"]) for row in rows_of(reviewed / "review.csv")}
    for source, record in records_of(reviewed).items():
        for key, entry in record["evidence"].items():
            if entry["confidence"] < 0.75:
                assert (source, key.replace("[", ".").replace("]", "")) in listed


def test_a_failed_check_lowers_confidence_and_is_reviewed(tmp_path):
    text = SAMPLES[2].read_text(encoding="utf-8").replace("0203-47-01", "0148-47-01")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "uo.txt").write_text(text, encoding="utf-8")
    run([tmp_path / "in"], tmp_path / "out", OPTIONS)
    record = records_of(tmp_path / "out")["uo.txt"]
    assert record["evidence"]["domaine_fonctionnel"]["checks"] == ["domain_vs_programme"]
    assert record["evidence"]["domaine_fonctionnel"]["confidence"] < 0.75
    assert (
        "vérification échouée : le domaine fonctionnel ne commence pas par le numéro du programme"
        in record["warnings"]
    )
    reasons = {row["champ"]: row["raison"] for row in rows_of(tmp_path / "out" / "review.csv")}
    assert (
        reasons["domaine_fonctionnel"] == "le domaine fonctionnel ne commence pas par le numéro du programme"
    )


def test_workbook_highlights_doubtful_cells_and_keeps_evidence_in_comments(reviewed):
    sheet = load_workbook(reviewed / "conventions.xlsx")["conventions"]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("fichier_source")].value == INITIALS)
    sigle = row[header.index("delegant_sigle")]
    assert sigle.value == "DGITM"
    assert sigle.fill.fgColor.rgb.endswith("FDE68A")
    assert "« DGITM »" in sigle.comment.text
    assert "low confidence (parties.sigle_initials)" in sigle.comment.text
    nom = row[header.index("delegataire_nom")]
    assert nom.value == "Direction interministérielle du numérique"
    assert nom.fill.fill_type is None


def test_corrections_are_applied_marked_and_never_written_over(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for path in SAMPLES:
        shutil.copy(path, inbox)
    corrections = inbox / "corrections.csv"
    corrections.write_text(
        "fichier_source,champ,valeur\n"
        f"{INITIALS},delegant.sigle,DGITM-MTE\n"
        f"{BLANK_DATE},date_signature,2021-03-01\n"
        f"{INITIALS},montants.0.montant,25 000\n"
        f"{INITIALS},delegant.telephone,01 02 03 04 05\n"
        "disparu.pdf,programme,148\n",
        encoding="utf-8",
    )
    before = corrections.read_bytes()
    summary = run([inbox], tmp_path / "out", OPTIONS)
    out = tmp_path / "out"

    record = records_of(out)[INITIALS]
    assert record["delegant"]["sigle"] == "DGITM-MTE"
    assert record["montants"][0]["montant"] == 25000
    assert record["evidence"]["delegant.sigle"]["source"] == "correction"
    assert record["evidence"]["delegant.sigle"]["previous"] == "DGITM"
    assert records_of(out)[BLANK_DATE]["date_signature"] == "2021-03-01"
    table = {row["fichier_source"]: row for row in rows_of(out / "conventions.csv")}
    assert table[INITIALS]["delegant_sigle"] == "DGITM-MTE"
    assert table[BLANK_DATE]["date_signature"] == "2021-03-01"
    amounts = [row for row in rows_of(out / "montants.csv") if row["fichier_source"] == INITIALS]
    assert amounts[0]["montant"] == "25000"

    reviewed = {(row["fichier_source"], row["champ"]) for row in rows_of(out / "review.csv")}
    assert (INITIALS, "delegant.sigle") not in reviewed
    assert (BLANK_DATE, "date_signature") not in reviewed
    assert '"corrected": true' in (out / "review.html").read_text(encoding="utf-8")

    assert any("delegant.telephone" in notice and "no such field" in notice for notice in summary.notices)
    assert any("disparu.pdf" in notice for notice in summary.notices)
    assert corrections.read_bytes() == before
    again = run([inbox], out, OPTIONS)
    assert again.notices == summary.notices
    assert records_of(out)[INITIALS]["delegant"]["sigle"] == "DGITM-MTE"


def test_a_correction_that_does_not_fit_the_schema_is_refused_with_a_warning(tmp_path):
    corrections = tmp_path / "fixes.csv"
    corrections.write_text(
        f"fichier_source,champ,valeur\n{INITIALS},date_signature,29 mai 2020\n", encoding="utf-8"
    )
    options = Options(jobs=1, use_spacy=False, corrections=corrections)
    summary = run(SAMPLES, tmp_path / "out", options)
    assert records_of(tmp_path / "out")[INITIALS]["date_signature"] == "2020-05-29"
    assert "is not a date written YYYY-MM-DD" in summary.notices[0]


def test_review_page_shows_the_evidence_of_a_doubtful_field_in_chromium(reviewed):
    browser = pytest.importorskip("pipeline.dataset.browser")
    try:
        shot = browser.screenshot_review(reviewed / "review.html", reviewed / "review.png")
    except browser.BrowserMissing as missing:
        pytest.skip(str(missing))
    evidence = records_of(reviewed)[shot.file]["evidence"]
    by_field = {key.replace("[", ".").replace("]", ""): entry for key, entry in evidence.items()}
    assert shot.highlighted == by_field[shot.field]["text"]
    assert (reviewed / "review.png").stat().st_size > 10_000


def record_for_corrections() -> dict:
    return {
        "fichier_source": "a.pdf",
        "delegant": {"nom": "Direction du budget", "sigle": None},
        "produits": ["Zam"],
        "montants": [
            {"annee": 2020, "type_credit": "AE", "montant": 1000, "produit": None, "estimation": False}
        ],
        "signataires": [],
        "reconduction_tacite": None,
        "evidence": {},
        "warnings": [],
    }


def test_corrections_add_and_remove_lines_and_type_their_values():
    record = record_for_corrections()
    fixes = [
        Correction("a.pdf", "montants.1.type_credit", "CP", "c:2"),
        Correction("a.pdf", "montants.1.montant", "1 000,50", "c:3"),
        Correction("a.pdf", "montants.0", "", "c:4"),
        Correction("a.pdf", "produits", "Zam; DomiFa", "c:5"),
        Correction("a.pdf", "reconduction_tacite", "oui", "c:6"),
        Correction("a.pdf", "delegant.nom", "", "c:7"),
        Correction("a.pdf", "montants.5.montant", "3", "c:8"),
        Correction("a.pdf", "id", "x", "c:9"),
    ]
    problems = apply_corrections([record], fixes)
    assert record["montants"] == [
        {"annee": None, "type_credit": "CP", "montant": 1000.5, "produit": None, "estimation": None}
    ]
    assert record["produits"] == ["Zam", "DomiFa"]
    assert record["reconduction_tacite"] is True
    assert record["delegant"]["nom"] is None
    assert record["evidence"]["delegant.nom"]["previous"] == "Direction du budget"
    assert [p.split(":")[1] for p in problems] == ["8", "9"]


def test_a_corrections_file_without_its_header_is_a_usage_error(tmp_path):
    (tmp_path / "fixes.csv").write_text("a.pdf,programme,148\n", encoding="utf-8")
    args = [
        "extract",
        str(SAMPLES[0]),
        "-o",
        str(tmp_path / "out"),
        "--corrections",
        str(tmp_path / "fixes.csv"),
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "fichier_source,champ,valeur" in result.output
