"""A batch gives one record or one error line per file, and goes on after a bad one."""

from __future__ import annotations

import csv
import json
import shutil

from conftest import SAMPLES

from pipeline.batch import Options, run

NOVEL = "Il était une fois, dans une ville de province, un homme qui aimait les livres. " * 20
INVOICE = "FACTURE n° 2021-044\nDésignation\tQuantité\tPrix\nPapier A4\t10\t45,00 €\nTotal TTC\t54,00 €\n"


def errors_of(outdir):
    with open(outdir / "errors.csv", encoding="utf-8") as handle:
        return {row["fichier"].rsplit("/", 1)[-1]: row for row in csv.DictReader(handle)}


def test_texts_that_are_not_conventions_give_an_error_and_no_record(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "roman.txt").write_text(NOVEL, encoding="utf-8")
    (inbox / "facture.txt").write_text(INVOICE, encoding="utf-8")
    shutil.copy(SAMPLES[0], inbox)
    summary = run([inbox], tmp_path / "out", Options(jobs=1, use_spacy=False))
    records = json.loads((tmp_path / "out" / "conventions.json").read_text())
    assert [r["fichier_source"] for r in records] == [SAMPLES[0].name]
    errors = errors_of(tmp_path / "out")
    assert errors["roman.txt"]["type_erreur"] == "not_a_convention"
    assert errors["facture.txt"]["type_erreur"] == "not_a_convention"
    assert summary.line.startswith("1 conventions extracted, 2 files not extracted")


def test_empty_and_binary_files_are_reported(tmp_path):
    (tmp_path / "vide.txt").write_bytes(b"")
    (tmp_path / "binaire.txt").write_bytes(bytes(range(256)) * 40)
    run([tmp_path], tmp_path / "out", Options(jobs=1, use_spacy=False))
    errors = errors_of(tmp_path / "out")
    assert errors["vide.txt"]["type_erreur"] == "empty"
    assert errors["binaire.txt"]["type_erreur"] == "unreadable_text"


def test_windows_1252_text_is_read_with_its_accents(tmp_path):
    text = SAMPLES[3].read_text(encoding="utf-8")
    (tmp_path / "ancien.txt").write_bytes(text.encode("cp1252", errors="replace"))
    run([tmp_path / "ancien.txt"], tmp_path / "out", Options(jobs=1, use_spacy=False))
    record = json.loads((tmp_path / "out" / "conventions.json").read_text())[0]
    assert record["delegant"]["nom"] == "Délégation générale à l'emploi et à la formation professionnelle"


def test_a_convention_under_two_names_is_counted_once(tmp_path):
    shutil.copy(SAMPLES[1], tmp_path / "a.txt")
    shutil.copy(SAMPLES[1], tmp_path / "b.txt")
    summary = run([tmp_path], tmp_path / "out", Options(jobs=1, use_spacy=False))
    assert len(summary.records) == 1
    assert errors_of(tmp_path / "out")["b.txt"]["type_erreur"] == "duplicate"
