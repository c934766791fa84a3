"""Large runs: records go through files on disk, the review page comes in parts that link to
each other, and a correction never counts lines from the end."""

from __future__ import annotations

import json
import re
import shutil
from types import SimpleNamespace

from conftest import SAMPLES

import pipeline.dataset.review as review
from pipeline.batch import Options, run

QUICK = Options(jobs=1, use_spacy=False)


def page_data(path) -> dict:
    html = path.read_text(encoding="utf-8")
    return json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>', html, re.S)[1])


def test_the_review_page_of_a_large_run_comes_in_parts_that_share_what_is_decided(tmp_path, monkeypatch):
    monkeypatch.setattr(review, "PART_SIZE", 2)
    out = tmp_path / "out"
    run(SAMPLES, out, QUICK)
    names = ["review.html", "review-2.html", "review-3.html"]
    parts = [page_data(out / name) for name in names]
    assert [[c["file"] for c in part["conventions"]] for part in parts] == [
        [path.name for path in SAMPLES[0:2]],
        [path.name for path in SAMPLES[2:4]],
        [SAMPLES[4].name],
    ]
    assert parts[0]["parts"] == [
        ["review.html", "conventions 1 à 2"],
        ["review-2.html", "conventions 3 à 4"],
        ["review-3.html", "conventions 5 à 5"],
    ]
    assert [part["part"] for part in parts] == [0, 1, 2]
    assert len({part["stamp"] for part in parts}) == 1


def test_a_smaller_run_leaves_no_part_of_a_larger_one(tmp_path, monkeypatch):
    monkeypatch.setattr(review, "PART_SIZE", 2)
    out = tmp_path / "out"
    run(SAMPLES, out, QUICK)
    run(SAMPLES[:2], out, QUICK)
    assert sorted(path.name for path in out.glob("review*.html")) == ["review.html"]
    assert "parts" not in page_data(out / "review.html")


def test_a_spool_gives_back_its_values_in_the_order_of_their_keys_and_leaves_no_file(tmp_path):
    from pipeline.dataset.write import Spool

    spool = Spool(tmp_path)
    for key in (2, 0, 1):
        spool.add({"rang": key, "nom": "délégation\udce9"}, key)
    assert [value["rang"] for value in spool] == [0, 1, 2]
    assert next(iter(spool))["nom"] == "délégation\udce9"
    spool.remove()
    assert list(tmp_path.iterdir()) == []


def test_a_correction_that_counts_lines_from_the_end_is_refused(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(SAMPLES[2], inbox)
    (inbox / "corrections.csv").write_text(
        f"fichier_source,champ,valeur\n{SAMPLES[2].name},montants.-1.montant,1\n", encoding="utf-8"
    )
    summary = run([inbox], tmp_path / "out", QUICK)
    assert summary.notices == [
        "corrections.csv, ligne 2 : « montants.-1.montant » non corrigé : numéro de ligne négatif : "
        "les lignes se comptent à partir de 0, dans l'ordre"
    ]
    assert all(line["montant"] != 1 for line in summary.records[0]["montants"])


def test_without_a_terminal_progress_is_told_while_the_pages_of_a_long_file_are_read(monkeypatch, capsys):
    import pipeline.units as units

    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(units, "time", SimpleNamespace(monotonic=lambda: clock.now))
    progress = units.Progress(3)
    progress.pages_done(4)
    assert capsys.readouterr().err == ""
    clock.now = 61.0
    progress.pages_done(4)  # a minute on the pages of the first file: the officer is told
    assert capsys.readouterr().err == "extraction : 0/3 fichiers, 8 pages, 0.1 pages/s\n"


def test_the_records_of_a_run_are_read_back_from_its_file_one_at_a_time(tmp_path):
    summary = run(SAMPLES, tmp_path / "out", QUICK)
    assert [record["fichier_source"] for record in summary.records] == [path.name for path in SAMPLES]
    written = json.loads((tmp_path / "out" / "conventions.json").read_text(encoding="utf-8"))
    assert list(summary.records) == written
    assert len(summary.records) == 5
