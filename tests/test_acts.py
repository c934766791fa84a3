"""Files holding several acts (a bulletin, as text and as a text PDF): one record per convention,
each with the values it gives alone; the other acts counted, not reported as errors."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from conftest import ROOT, get

from bench.synth import text_pdf
from pipeline.batch import Options, run
from pipeline.read import read_file

QUICK = Options(jobs=1, use_spacy=False)
PIECES = sorted((ROOT / "tests" / "acts").glob("*.txt"))  # a table of contents, conventions, other acts
CONVENTIONS = [piece for piece in PIECES if piece.with_suffix(".json").exists()]
OTHER_ACTS = 2  # an arrêté and a note de service; the table of contents is no act


def bulletin(separators: bool = True) -> str:
    """The pieces in order, as a bulletin prints them: "Texte n° 2" between its texts, or not."""
    parts = [
        f"Texte n° {number}\n\n{piece.read_text(encoding='utf-8')}"
        if separators and number
        else piece.read_text()
        for number, piece in enumerate(PIECES)
    ]
    return "\n\n".join(parts)


def expected(piece) -> dict:
    return json.loads(piece.with_suffix(".json").read_text(encoding="utf-8"))


def records_of(folder) -> list[dict]:
    return json.loads((folder / "conventions.json").read_text(encoding="utf-8"))


def rows_of(path) -> list[dict]:
    return list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))


@pytest.fixture(scope="module")
def alone(tmp_path_factory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("alone")
    for piece in CONVENTIONS:
        shutil.copy(piece, folder)
    run([folder], folder / "out", QUICK)
    return {record["fichier_source"]: record for record in records_of(folder / "out")}


@pytest.fixture(scope="module", params=["txt", "pdf", "txt_without_separators"])
def read_bulletin(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    path = folder / f"bulletin.{request.param[:3]}"
    if request.param == "pdf":
        text_pdf(bulletin(), path)
    else:
        path.write_text(bulletin(separators=request.param == "txt"), encoding="utf-8")
    summary = run([path], folder / "out", QUICK)
    return path, summary, records_of(folder / "out")


@pytest.mark.parametrize("piece", CONVENTIONS, ids=lambda p: p.stem)
def test_each_convention_read_alone_gives_the_values_it_states(alone, piece):
    for key, value in expected(piece).items():
        assert get(alone[piece.name], key) == value, key


def test_a_bulletin_gives_one_record_per_convention_with_the_values_each_gives_alone(read_bulletin):
    _, _, records = read_bulletin
    assert len(records) == len(CONVENTIONS)
    for record, piece in zip(records, CONVENTIONS, strict=True):
        for key, value in expected(piece).items():
            assert get(record, key) == value, f"{piece.stem}: {key}"


def test_records_of_one_file_are_told_apart_by_their_rank(read_bulletin):
    path, _, records = read_bulletin
    assert [record["fichier_source"] for record in records] == [path.name] * len(CONVENTIONS)
    assert [record["rang_dans_fichier"] for record in records] == list(range(1, len(CONVENTIONS) + 1))
    assert len({record["id"] for record in records}) == len(CONVENTIONS)


def test_the_other_acts_are_counted_in_the_summary_not_as_errors(read_bulletin):
    _, summary, _ = read_bulletin
    assert summary.errors == []
    assert (
        summary.line
        == f"{len(CONVENTIONS)} conventions extraites, {OTHER_ACTS} autres actes, 0 fichier non extrait"
    )


def test_each_record_evidence_points_into_the_files_text_within_its_act(read_bulletin):
    path, _, records = read_bulletin
    text = read_file(path).text
    for record in records:
        for key, entry in record["evidence"].items():
            assert text[entry["start"] : entry["end"]] == entry["text"], key
            assert record["caractere_debut"] <= entry["start"] < record["caractere_fin"], key


def test_acts_follow_each_other_and_one_over_two_pages_stays_whole(read_bulletin):
    path, _, records = read_bulletin
    spans = [(record["caractere_debut"], record["caractere_fin"]) for record in records]
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:], strict=False))
    if path.suffix == ".pdf":
        assert any(record["page_fin"] > record["page_debut"] for record in records)
        for record in records:
            pages = {entry["page"] for entry in record["evidence"].values()}
            assert pages <= set(range(record["page_debut"], record["page_fin"] + 1))


def test_an_avenant_carries_the_id_of_the_convention_it_modifies(read_bulletin, tmp_path):
    _, _, records = read_bulletin
    convention, avenant = records[0], records[1]
    assert avenant["convention_modifiee"]["id"] == convention["id"]
    assert records[2]["convention_modifiee"] is None


def test_a_convention_read_twice_is_kept_once_and_the_other_reading_listed(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bulletin.txt").write_text(bulletin(), encoding="utf-8")
    single = CONVENTIONS[-1]
    (tmp_path / "in" / "page-web.txt").write_text(
        f"> Télécharger au format PDF\n{single.read_text()}", encoding="utf-8"
    )
    summary = run([tmp_path / "in"], tmp_path / "out", QUICK)
    assert len(summary.records) == len(CONVENTIONS)
    assert summary.errors == []
    [line] = rows_of(tmp_path / "out" / "doublons.csv")
    assert (line["fichier"], line["fichier_garde"]) == ("page-web.txt", "bulletin.txt")
    assert line["motif"] == f"même NOR {expected(single)['nor']}"


def test_a_bulletin_with_no_convention_is_one_french_error_line(tmp_path):
    others = [piece for piece in PIECES if piece not in CONVENTIONS]
    path = tmp_path / "sans-convention.txt"
    path.write_text("\n\n".join(piece.read_text(encoding="utf-8") for piece in others), encoding="utf-8")
    summary = run([path], tmp_path / "out", QUICK)
    [error] = summary.errors
    assert error["type_erreur"] == "pas_une_convention"
    assert error["message"].startswith(
        f"aucune convention de délégation de gestion parmi les {OTHER_ACTS} actes"
    )
    assert "délégation de signature, pas de gestion" in error["message"]


def test_a_correction_names_a_convention_by_its_file_and_rank(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bulletin.txt").write_text(bulletin(), encoding="utf-8")
    (tmp_path / "in" / "corrections.csv").write_text(
        "fichier_source,champ,valeur\nbulletin.txt#3,lieu_signature,Rouen\n", encoding="utf-8"
    )
    summary = run([tmp_path / "in"], tmp_path / "out", QUICK)
    assert summary.notices == []
    assert [record["lieu_signature"] for record in summary.records] == ["Paris", "Paris", "Rouen"]


def test_a_convention_no_title_names_goes_to_review_with_its_confidence(tmp_path):
    path = tmp_path / "sans-titre.txt"
    path.write_text(
        "Convention\n\nEntre\nLe directeur des achats, désigné sous le terme de « délégant », d'une part,\n"
        "Et\nLa directrice des finances, d'autre part.\n\nArticle 1er. Le directeur des achats charge la "
        "directrice des finances du paiement de ses factures.\n\nFait à Lyon, le 4 avril 2023\n",
        encoding="utf-8",
    )
    summary = run([path], tmp_path / "out", QUICK)
    [record] = summary.records
    assert record["evidence"]["nature"]["confidence"] < 0.75
    assert any(warning.startswith("convention retenue sans certitude") for warning in record["warnings"])
    reviewed = [row["champ"] for row in rows_of(tmp_path / "out" / "review.csv")]
    assert "Nature" in " ".join(reviewed)
