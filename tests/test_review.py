"""The officer's review: what to check, most urgent first and in French words; a workbook that
highlights it on every sheet; corrections that stick, whatever the file they come in."""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest
from click.testing import CliRunner
from conftest import ROOT, SAMPLES
from openpyxl import load_workbook

import pipeline.model as model
from pipeline.batch import Options, run
from pipeline.cli import cli
from pipeline.dataset.corrections import (
    Correction,
    CorrectionError,
    apply_corrections,
    read_corrections,
    typed,
)
from pipeline.dataset.review import display, fields_of, label, review_html
from pipeline.dataset.tables import main_parties
from pipeline.patterns import load_patterns

OPTIONS = Options(jobs=1, use_spacy=False, use_cache=True)
BLANK_DATE = "004_18e5c938af976e70.txt"  # its signature date is left blank
INITIALS = "002_d40404dbd0e9c007.txt"  # its delegant's sigle is made from initials
WARNED = "003_aa5b457ba905f1ad.txt"  # two warnings, no doubtful field


def rows_of(path) -> list[dict]:
    with open(path, encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def records_of(outdir) -> dict[str, dict]:
    records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
    return {record["fichier_source"]: record for record in records}


def copied_samples(folder):
    folder.mkdir()
    for path in SAMPLES:
        shutil.copy(path, folder)
    return folder


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("reviewed")
    run(SAMPLES, outdir, OPTIONS)
    return outdir


def test_review_lists_what_to_check_most_urgent_first_in_french(reviewed):
    rows = rows_of(reviewed / "review.csv")
    assert [row["priorite"] for row in rows] == sorted(row["priorite"] for row in rows)
    first = rows[0]
    assert (first["fichier_source"], first["champ"], first["cle"]) == (
        BLANK_DATE,
        "Date de signature",
        "date_signature",
    )
    assert first["priorite"] == "1 - haute"
    assert first["raison"] == "absent du texte, alors que toute convention l'indique"
    assert first["confiance"] == "absent"
    guessed = next(row for row in rows if (row["fichier_source"], row["cle"]) == (INITIALS, "delegant.sigle"))
    assert (guessed["champ"], guessed["valeur"], guessed["priorite"]) == (
        "Délégant · sigle",
        "DGITM",
        "2 - moyenne",
    )
    assert guessed["confiance"] == "faible"
    assert guessed["raison"] == "lu avec peu de certitude : à comparer au passage du texte"
    assert guessed["regle"] == "parties.sigle_initials"
    assert guessed["extrait"] and guessed["page"] == "1"
    warning = next(row for row in rows if row["fichier_source"] == BLANK_DATE and not row["champ"])
    assert warning["priorite"] == "3 - basse"


def test_every_field_below_the_threshold_is_in_the_review(reviewed):
    listed = {(row["fichier_source"], row["cle"]) for row in rows_of(reviewed / "review.csv")}
    for source, record in records_of(reviewed).items():
        for key, entry in record["evidence"].items():
            if entry["confidence"] < 0.75:
                assert (source, as_reviewed(record, key.replace("[", ".").replace("]", ""))) in listed


def as_reviewed(record: dict, key: str) -> str:
    """A party that the délégant or the délégataire repeats is reviewed under that name."""
    parts = key.split(".")
    if parts[0] == "parties" and int(parts[1]) in main_parties(record):
        return ".".join([main_parties(record)[int(parts[1])], *parts[2:]])
    return key


def test_a_party_beyond_the_delegant_and_the_delegataire_is_reviewed_on_its_own(tmp_path):
    record = {
        "delegant": {"nom": "Direction A", "sigle": None},
        "delegataire": {"nom": "Direction B", "sigle": None},
        "parties": [
            {"role": "delegant", "nom": "Direction A", "sigle": None},
            {"role": "delegataire", "nom": "Direction B", "sigle": None},
            {"role": "delegataire", "nom": "Direction C", "sigle": "DC"},
        ],
        "evidence": {
            "parties[2].sigle": {"confidence": 0.5, "rule": "parties.sigle_initials", "text": "DC"},
            "parties[0].nom": {"confidence": 0.5, "rule": "parties.name", "text": "Direction A"},
        },
        "warnings": [],
        "warning_codes": [],
    }
    fields = fields_of(record, load_patterns()["review"])
    assert [field.key for field in fields if field.doubtful and field.key.startswith("parties")] == [
        "parties.2"
    ]


def test_a_failed_check_lowers_confidence_and_is_reviewed_with_high_priority(tmp_path):
    text = SAMPLES[2].read_text(encoding="utf-8").replace("0203-47-01", "0148-47-01")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "uo.txt").write_text(text, encoding="utf-8")
    run([tmp_path / "in"], tmp_path / "out", OPTIONS)
    record = records_of(tmp_path / "out")["uo.txt"]
    assert record["evidence"]["domaine_fonctionnel"]["checks"] == ["domain_vs_programme"]
    assert record["evidence"]["domaine_fonctionnel"]["confidence"] < 0.75
    reason = "le domaine fonctionnel ne commence pas par le numéro du programme"
    assert f"vérification échouée : {reason}" in record["warnings"]
    rows = {row["cle"]: row for row in rows_of(tmp_path / "out" / "review.csv")}
    assert (rows["domaine_fonctionnel"]["raison"], rows["domaine_fonctionnel"]["priorite"]) == (
        reason,
        "1 - haute",
    )


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("date_signature", "Date de signature"),
        ("delegant.representant.nom", "Délégant · représentant · nom"),
        ("montants.1.montant", "Montant n° 2 · montant"),
        ("signataires.0", "Signataire n° 1"),
        ("nor", "NOR"),
    ],
)
def test_fields_are_named_as_the_officer_reads_them(key, name):
    assert label(key) == name


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("date_signature", "2020-11-23", "23/11/2020"),
        ("montant_total", 1250000, "1\u00a0250\u00a0000\u00a0€"),
        ("montants.0.montant", 1000.5, "1\u00a0000,50\u00a0€"),
        ("duree", "P6M", "6 mois"),
        ("preavis", "P1Y", "1 an"),
        ("reconduction_tacite", False, "non"),
        ("activite", "014801030104", "014801030104"),
        ("signataires.0", {"nom": "Marie Dupont", "partie": "delegant", "par_delegation": True}, None),
    ],
)
def test_values_are_shown_as_a_french_reader_writes_them_and_read_back_the_same(key, value, shown):
    if shown is None:
        assert display(key, value) == "Marie Dupont · délégant · par délégation"
        return
    assert display(key, value) == shown
    assert typed(shown, key) == value


def test_workbook_opens_on_what_to_review_most_urgent_first(reviewed):
    book = load_workbook(reviewed / "conventions.xlsx")
    assert book.sheetnames == ["À vérifier", "conventions", "montants", "signataires", "parties", "Colonnes"]
    sheet = book["À vérifier"]
    header = columns_of(book, sheet)
    rows = [
        dict(zip(header, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    assert rows == [{k: (v if v != "" else None) for k, v in row.items()} for row in csv_typed(reviewed)]


def columns_of(book, sheet) -> list[str]:
    """The CSV column of each French header of the sheet, as the sheet "Colonnes" gives them."""
    names = {
        (name, title): column
        for name, title, column, _ in book["Colonnes"].iter_rows(min_row=2, values_only=True)
    }
    return [names[sheet.title, cell.value] for cell in sheet[1]]


def csv_typed(outdir) -> list[dict]:
    rows = rows_of(outdir / "review.csv")
    for row in rows:
        row["page"] = int(row["page"]) if row["page"] else None
    return rows


def test_every_sheet_has_its_header_frozen_filtered_and_columns_fitted(reviewed):
    book = load_workbook(reviewed / "conventions.xlsx")
    for sheet in book.worksheets:
        assert sheet.freeze_panes in ("B2", "C2")
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
        for column in range(1, sheet.max_column + 1):
            width = sheet.column_dimensions[sheet.cell(1, column).column_letter].width
            assert 6 <= width <= 50
        assert all(cell.font.b for cell in sheet[1])


def coloured_cells(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.fill.fill_type:
                    yield sheet.title, cell


def test_workbook_highlights_doubtful_cells_with_their_evidence_in_comments(reviewed):
    book = load_workbook(reviewed / "conventions.xlsx")
    sheet = book["conventions"]
    header = columns_of(book, sheet)
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("fichier_source")].value == INITIALS)
    sigle = row[header.index("delegant_sigle")]
    assert sigle.value == "DGITM"
    assert sigle.fill.fgColor.rgb.endswith("FDE68A")
    assert "« DGITM »" in sigle.comment.text
    assert "lu avec peu de certitude" in sigle.comment.text
    nom = row[header.index("delegataire_nom")]
    assert nom.value == "Direction interministérielle du numérique"
    assert nom.fill.fill_type is None and nom.comment is None


def test_every_sheet_is_highlighted_and_every_coloured_cell_has_a_comment(tmp_path):
    inbox = copied_samples(tmp_path / "in")
    text = (inbox / SAMPLES[1].name).read_text(encoding="utf-8").replace("20 000", "30 000")
    (inbox / SAMPLES[1].name).write_text(text, encoding="utf-8")  # its CP no longer add up to its AE
    (inbox / "corrections.csv").write_text(
        f"fichier_source,champ,valeur\n{INITIALS},Signataire n° 1 · fonction,Directrice adjointe\n",
        encoding="utf-8",
    )
    run([inbox], tmp_path / "out", OPTIONS)
    coloured = list(coloured_cells(load_workbook(tmp_path / "out" / "conventions.xlsx")))
    assert {title for title, _ in coloured} == {"conventions", "montants", "signataires"}
    for title, cell in coloured:
        assert cell.comment and cell.comment.text.strip(), f"{title}!{cell.coordinate}"
    signed = next(cell for title, cell in coloured if title == "signataires")
    assert signed.value == "Directrice adjointe" and signed.fill.fgColor.rgb.endswith("BBF7D0")
    assert "corrigé (corrections.csv, ligne 2)" in signed.comment.text
    amounts = [cell for title, cell in coloured if title == "montants"]
    assert amounts and all("la somme des CP diffère de celle des AE" in cell.comment.text for cell in amounts)


def write_corrections(path, rows: list[str], encoding="utf-8") -> None:
    path.write_bytes(("fichier_source,champ,valeur\n" + "".join(f"{row}\n" for row in rows)).encode(encoding))


def test_corrections_by_friendly_name_with_french_values_are_applied_and_never_written_over(tmp_path):
    inbox = copied_samples(tmp_path / "in")
    corrections = inbox / "corrections.csv"
    write_corrections(
        corrections,
        [
            f"{INITIALS},Délégant · sigle,DGITM-MTE",
            f"{BLANK_DATE},Date de signature,31/07/2021",
            f'{INITIALS},Montant n° 1 · montant,"25 000,50 €"',
            f"{INITIALS},delegant_representant_fonction,Directeur général",
            f"{INITIALS},Durée,2 ans",
            f"{INITIALS},Délégant · téléphone,01 02 03 04 05",
            "disparu.pdf,Programme,148",
        ],
    )
    before = corrections.read_bytes()
    summary = run([inbox], tmp_path / "out", OPTIONS)
    out = tmp_path / "out"

    record = records_of(out)[INITIALS]
    assert record["delegant"]["sigle"] == "DGITM-MTE"
    assert record["delegant"]["representant"]["fonction"] == "Directeur général"
    assert record["montants"][0]["montant"] == 25000.5
    assert record["duree"] == "P2Y"
    assert record["evidence"]["delegant.sigle"]["source"] == "correction"
    assert record["evidence"]["delegant.sigle"]["previous"] == "DGITM"
    assert record["evidence"]["delegant.sigle"]["rule"] == "corrections.csv, ligne 2"
    assert records_of(out)[BLANK_DATE]["date_signature"] == "2021-07-31"
    table = {row["fichier_source"]: row for row in rows_of(out / "conventions.csv")}
    assert table[INITIALS]["delegant_sigle"] == "DGITM-MTE"
    assert table[BLANK_DATE]["date_signature"] == "2021-07-31"
    amounts = [row for row in rows_of(out / "montants.csv") if row["fichier_source"] == INITIALS]
    assert amounts[0]["montant"] == "25000.5"

    reviewed = {(row["fichier_source"], row["cle"]) for row in rows_of(out / "review.csv")}
    assert (INITIALS, "delegant.sigle") not in reviewed
    assert (BLANK_DATE, "date_signature") not in reviewed

    assert summary.notices == [
        "corrections.csv, ligne 7 : « Délégant · téléphone » non corrigé : champ inconnu",
        "corrections.csv, ligne 8 : aucune convention tirée de « disparu.pdf » ici",
    ]
    assert corrections.read_bytes() == before
    again = run([inbox], out, OPTIONS)
    assert again.notices == summary.notices
    assert records_of(out)[INITIALS]["delegant"]["sigle"] == "DGITM-MTE"


def test_a_correction_clears_the_warnings_it_answers_and_keeps_them_in_its_evidence(tmp_path):
    inbox = copied_samples(tmp_path / "in")
    write_corrections(inbox / "corrections.csv", [f"{BLANK_DATE},Date de signature,1er juillet 2021"])
    run([inbox], tmp_path / "out", OPTIONS)
    record = records_of(tmp_path / "out")[BLANK_DATE]
    assert "date de signature laissée en blanc" not in record["warnings"]
    assert record["evidence"]["date_signature"]["answers"] == ["date de signature laissée en blanc"]
    published = {row["fichier_source"]: row for row in rows_of(tmp_path / "out" / "conventions.csv")}
    assert "laissée en blanc" not in published[BLANK_DATE]["avertissements"]
    assert "le produit « Carbone » est cité" in published[BLANK_DATE]["avertissements"]


def test_rewording_every_warning_changes_nothing_the_review_does(tmp_path, monkeypatch):
    """The review, its priorities and the corrections go by a warning's code and field, never
    by its French text: every text of the catalogue reworded, they do the same."""
    options = Options(jobs=1, use_spacy=False, use_cache=False)
    inbox = copied_samples(tmp_path / "in")
    checked = SAMPLES[2].read_text(encoding="utf-8").replace("0203-47-01", "0148-47-01")
    (inbox / SAMPLES[2].name).write_text(checked, encoding="utf-8")
    write_corrections(inbox / "corrections.csv", [f"{BLANK_DATE},Date de signature,1er juillet 2021"])
    run([inbox], tmp_path / "plain", options)
    reworded = {
        code: {**entry, "text": f"reformulé : {entry['text']}"} for code, entry in model.catalogue().items()
    }
    monkeypatch.setattr(model, "catalogue", lambda: reworded)
    run([inbox], tmp_path / "reworded", options)

    def behaviour(outdir) -> list[tuple]:
        rows = rows_of(outdir / "review.csv")
        return [
            (row["fichier_source"], row["cle"], row["priorite"], bool(row["cle"]) and row["raison"])
            for row in rows
        ]

    assert behaviour(tmp_path / "plain") == behaviour(tmp_path / "reworded")
    told = [row["raison"] for row in rows_of(tmp_path / "reworded" / "review.csv") if not row["cle"]]
    assert told and all(reason.startswith("reformulé : ") for reason in told)
    plain, record = records_of(tmp_path / "plain")[BLANK_DATE], records_of(tmp_path / "reworded")[BLANK_DATE]
    assert record["warning_codes"] == plain["warning_codes"]
    assert record["evidence"]["date_signature"]["answers"] == [
        "reformulé : date de signature laissée en blanc"
    ]
    checks = [
        w["params"]["check"]
        for w in records_of(tmp_path / "reworded")[SAMPLES[2].name]["warning_codes"]
        if w["code"] == "verification_echouee"
    ]
    assert checks == ["domain_vs_programme"]


def test_every_warning_raised_or_answered_has_its_french_text_and_no_other():
    raised = set()
    for path in (ROOT / "pipeline").rglob("*.py"):
        raised |= set(re.findall(r'\bwarning\(\s*"(\w+)"', path.read_text(encoding="utf-8")))
    assert raised == set(model.catalogue())
    settings = load_patterns()["review"]
    for rule in settings["answered_by"]:
        assert set(rule["codes"]) <= raised
        assert set(rule.get("checks", [])) <= set(settings["checks"])


def test_nothing_about_corrections_reaches_the_published_columns(tmp_path):
    inbox = copied_samples(tmp_path / "in")
    write_corrections(
        inbox / "corrections.csv",
        [
            f"{INITIALS},Délégant · sigle,DGITM-MTE",
            f"{INITIALS},Date de fin,demain",
            f"{INITIALS},couleur,bleu",
        ],
    )
    summary = run([inbox], tmp_path / "out", OPTIONS)
    assert len(summary.notices) == 2
    for name in ("conventions", "montants", "signataires"):
        text = (tmp_path / "out" / f"{name}.csv").read_text(encoding="utf-8-sig")
        assert "correction" not in text and "ligne 3" not in text
    html = (tmp_path / "out" / "review.html").read_text(encoding="utf-8")
    assert "corrections.csv, ligne 3" in html


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "9" * 400, "1e3", "0x10"])
def test_numbers_must_be_finite_plain_decimals(raw):
    record = record_for_corrections()
    problems = apply_corrections([record], [Correction("a.pdf", "montants.0.montant", raw, "c, ligne 2")])
    assert problems and record["montants"][0]["montant"] == 1000
    json.dumps(record, allow_nan=False)


@pytest.mark.parametrize(
    ("raw", "key", "value"),
    [
        ("31/07/2021", "date_signature", "2021-07-31"),
        ("31-07-2021", "date_fin", "2021-07-31"),
        ("31 juillet 2021", "date_signature", "2021-07-31"),
        ("1er juillet 2021", "date_signature", "2021-07-01"),
        ("2021-07-31", "date_signature", "2021-07-31"),
        ("25 000 €", "montant_total", 25000),
        ("25\u202f000,50\u00a0€", "montants.0.montant", 25000.5),
        ("1.000.000,00 EUR", "montant_total", 1000000),
        ("1000.5", "montant_total", 1000.5),
        ("Délégataire", "signataires.0.partie", "delegataire"),
        ("cp", "montants.0.type_credit", "CP"),
        ("Non", "reconduction_tacite", False),
        ("3 mois", "preavis", "P3M"),
        ("0148-cafp-c004", "centre_financier", "0148-CAFP-C004"),
        ("01/09/2021", "prise_effet", "2021-09-01"),
    ],
)
def test_values_are_read_in_the_forms_a_french_officer_writes(raw, key, value):
    assert typed(raw, key) == value


@pytest.mark.parametrize(
    ("raw", "key"),
    [("juillet 2021", "date_signature"), ("31/02/2021", "date_signature"), ("-5", "montant_total")],
)
def test_values_that_do_not_fit_are_refused(raw, key):
    with pytest.raises(ValueError):
        typed(raw, key)


def test_a_windows_1252_corrections_file_saved_by_a_french_spreadsheet_is_read(tmp_path):
    path = tmp_path / "corrections.csv"
    path.write_bytes(
        "fichier_source;champ;valeur\r\na.pdf;Délégant · nom;Société générale\r\n".encode("cp1252")
    )
    [correction] = read_corrections(path)
    assert (correction.field, correction.value) == ("Délégant · nom", "Société générale")


def test_a_corrections_file_in_no_known_encoding_is_refused_with_a_message(tmp_path):
    path = tmp_path / "corrections.csv"
    path.write_bytes(b"fichier_source,champ,valeur\na.pdf,objet,\x81\x8d\x8f\x90\x9d\x81\x8d\n")
    with pytest.raises(CorrectionError, match="encodage non reconnu"):
        read_corrections(path)


def test_every_malformed_row_is_reported_with_its_line_number(tmp_path):
    path = tmp_path / "corrections.csv"
    write_corrections(
        path,
        [
            "a.pdf,Objet,Un objet, avec une virgule",
            "a.pdf,Objet",
            ",Objet,sans fichier",
            'a.pdf,Objet,"sur deux',
            'lignes"',
            "a.pdf,Montant total,beaucoup",
            "a.pdf,Délégant · nom,Direction du budget",
        ],
    )
    record = record_for_corrections()
    problems = apply_corrections([record], read_corrections(path))
    assert [problem.split(" : ")[0] for problem in problems] == [
        "corrections.csv, ligne 2",
        "corrections.csv, ligne 3",
        "corrections.csv, ligne 4",
        "corrections.csv, ligne 7",
    ]
    assert "mettez-la entre guillemets" in problems[0]
    assert record["objet"] == "sur deux\nlignes"
    assert record["delegant"]["nom"] == "Direction du budget"


def test_a_broken_quote_applies_nothing_from_the_file(tmp_path):
    path = tmp_path / "corrections.csv"
    write_corrections(path, ["a.pdf,Objet,bon", 'a.pdf,Objet,"jamais refermé'])
    with pytest.raises(CorrectionError, match="ligne 3 : guillemet non refermé"):
        read_corrections(path)


def test_a_correction_is_applied_whole_or_not_at_all():
    record = record_for_corrections()
    problems = apply_corrections(
        [record], [Correction("a.pdf", "Montant n° 2 · montant", "beaucoup", "c, ligne 2")]
    )
    assert len(problems) == 1
    assert len(record["montants"]) == 1 and record["evidence"] == {}


def test_a_correction_carrying_a_formula_is_kept_as_text(tmp_path):
    inbox = copied_samples(tmp_path / "in")
    formula = "=cmd|' /C calc'!A0"
    write_corrections(
        inbox / "corrections.csv", [f"{INITIALS},Objet,{formula}", f"{INITIALS},Lieu de signature,'@SUM(1+1)"]
    )
    run([inbox], tmp_path / "out", OPTIONS)
    record = records_of(tmp_path / "out")[INITIALS]
    assert (record["objet"], record["lieu_signature"]) == (formula, "@SUM(1+1)")
    book = load_workbook(tmp_path / "out" / "conventions.xlsx")
    sheet = book["conventions"]
    header = columns_of(book, sheet)
    row = next(r for r in sheet.iter_rows(min_row=2) if r[header.index("fichier_source")].value == INITIALS)
    assert (row[header.index("objet")].value, row[header.index("objet")].data_type) == (formula, "s")


def record_for_corrections() -> dict:
    return {
        "fichier_source": "a.pdf",
        "objet": None,
        "montant_total": None,
        "delegant": {"nom": "Direction du budget", "sigle": None},
        "produits": ["Zam"],
        "montants": [
            {"annee": 2020, "type_credit": "AE", "montant": 1000, "produit": None, "estimation": False}
        ],
        "signataires": [],
        "reconduction_tacite": None,
        "evidence": {},
        "warnings": [],
        "warning_codes": [],
    }


def test_corrections_add_and_remove_lines_and_type_their_values():
    record = record_for_corrections()
    record["evidence"] = {"montants[0]": {"text": "1 000"}}
    fixes = [
        Correction("a.pdf", "montants.1.type_credit", "CP", "c, ligne 2"),
        Correction("a.pdf", "Montant n° 2 · montant", "1 000,50", "c, ligne 3"),
        Correction("a.pdf", "Montant n° 1", "", "c, ligne 4"),
        Correction("a.pdf", "produits", "Zam; DomiFa", "c, ligne 5"),
        Correction("a.pdf", "Tacite reconduction", "oui", "c, ligne 6"),
        Correction("a.pdf", "delegant.nom", "", "c, ligne 7"),
        Correction("a.pdf", "montants.5.montant", "3", "c, ligne 8"),
        Correction("a.pdf", "id", "x", "c, ligne 9"),
    ]
    problems = apply_corrections([record], fixes)
    assert record["montants"] == [
        {"annee": None, "type_credit": "CP", "montant": 1000.5, "produit": None, "estimation": None}
    ]
    assert record["evidence"]["montants[0].montant"]["rule"] == "c, ligne 3"
    assert record["evidence"]["montants"]["previous"][0]["montant"] == 1000
    assert record["produits"] == ["Zam", "DomiFa"]
    assert record["reconduction_tacite"] is True
    assert record["delegant"]["nom"] is None
    assert record["evidence"]["delegant.nom"]["previous"] == "Direction du budget"
    assert [p.split(" : ")[0] for p in problems] == ["c, ligne 8", "c, ligne 9"]


def test_a_corrections_file_without_its_header_is_refused_in_one_line(tmp_path):
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
    assert result.output.strip().splitlines() == [
        f"Erreur : {tmp_path / 'fixes.csv'} : la première ligne doit être fichier_source,champ,valeur"
    ]


def test_the_page_data_holds_any_text_without_ending_its_script_block():
    data = {"conventions": [], "notices": ["</script><!--<script>&amp;\u2028\u2029"]}
    html = review_html(data)
    block = html.split('<script id="data" type="application/json">')[1].split("</script>")[0]
    assert not {"<", ">", "&", "\u2028", "\u2029"} & set(block)
    assert json.loads(block) == data


def test_a_party_the_delegant_repeats_follows_its_corrections_and_other_parties_take_their_own():
    delegant = {"nom": "Direction du budget", "sigle": None, "representant": {"nom": None, "fonction": None}}
    other = {"nom": "Direction des achats", "sigle": None, "representant": {"nom": None, "fonction": None}}
    record = record_for_corrections() | {
        "delegant": delegant,
        "parties": [{"role": "delegant", **delegant}, {"role": "delegant", **other}],
    }
    fixes = [
        Correction("a.pdf", "Délégant · sigle", "DB", "c, ligne 2"),
        Correction("a.pdf", "parties.0.representant.nom", "Marie Dupont", "c, ligne 3"),
        Correction("a.pdf", "parties.1.sigle", "DAE", "c, ligne 4"),
    ]
    assert apply_corrections([record], fixes) == []
    assert record["delegant"]["sigle"] == "DB"
    assert record["delegant"]["representant"]["nom"] == "Marie Dupont"
    assert record["parties"][0] == {"role": "delegant", **record["delegant"]}
    assert record["parties"][1]["sigle"] == "DAE"
