"""Files as disks and servers hold them: names of any byte, folders at any depth, paths longer
than the system opens, two files of one name, an output folder that is a symbolic link."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from conftest import SAMPLES

from pipeline.batch import Options, collect, run
from pipeline.cli import cli

QUICK = Options(jobs=1, use_spacy=False)


def errors_of(outdir) -> list[dict]:
    with open(outdir / "errors.csv", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def records_of(outdir) -> list[dict]:
    return json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))


def test_a_file_name_that_is_not_utf8_is_read_and_written_with_its_bytes_escaped(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    name = os.fsdecode(b"convention_d\xe9l\xe9gation.txt")  # a Latin-1 name, from an old server
    shutil.copy(SAMPLES[0], inbox / name)
    (inbox / os.fsdecode(b"vide_\xe9t\xe9.txt")).write_bytes(b"")
    summary = run([inbox], tmp_path / "out", Options(jobs=1, use_spacy=False, use_cache=True))
    assert [r["fichier_source"] for r in records_of(tmp_path / "out")] == [
        "convention_d\\xe9l\\xe9gation.txt"
    ]
    assert errors_of(tmp_path / "out")[0]["fichier"] == f"{inbox}/vide_\\xe9t\\xe9.txt"
    page = (tmp_path / "out" / "review.html").read_text(encoding="utf-8")
    assert json.dumps("convention_d\\xe9l\\xe9gation.txt") in page
    again = run([inbox], tmp_path / "out", Options(jobs=1, use_spacy=False, use_cache=True))
    assert len(again.records) == len(summary.records) == 1


def test_control_and_direction_characters_of_a_name_are_shown_escaped(tmp_path):
    (tmp_path / "facture\u202etxt.exe.txt").write_bytes(b"")
    (tmp_path / "deux\nlignes.txt").write_bytes(b"")
    result = CliRunner().invoke(cli, ["extract", str(tmp_path), "-o", str(tmp_path / "out"), "--no-spacy"])
    assert f"{tmp_path}/facture\\u202etxt.exe.txt : fichier_vide" in result.output
    assert f"{tmp_path}/deux\\x0alignes.txt : fichier_vide" in result.output
    assert "\u202e" not in result.output and "deux\nlignes" not in result.output


@pytest.fixture
def deep(tmp_path):
    """A tree of folders a thousand deep, removed by rm: Python's own removal (and pytest's)
    recurses, and would fail on it."""
    folder = tmp_path / "profond"
    top = folder
    folder.mkdir()
    for _ in range(1000):
        folder = folder / "d"
        folder.mkdir()
    yield top, folder
    subprocess.run(["rm", "-rf", str(top)], check=True)


def test_folders_a_thousand_deep_are_walked_without_recursion(deep):
    top, folder = deep
    shutil.copy(SAMPLES[0], folder / "profond.txt")
    (folder / "retour").symlink_to(top / "d")
    files, skipped = collect([top])
    assert files == [folder / "profond.txt"]
    assert [(e["type_erreur"], e["fichier"]) for e in skipped] == [("lien_en_boucle", str(folder / "retour"))]


def test_a_path_longer_than_the_system_opens_is_reported_in_french(tmp_path):
    name = "n" * 200
    top = os.open(tmp_path, os.O_RDONLY)
    descriptors = [top]
    for _ in range(25):  # 25 folders of 200 bytes: past the 4096 bytes a path may have
        os.mkdir(name, dir_fd=descriptors[-1])
        descriptors.append(os.open(name, os.O_RDONLY, dir_fd=descriptors[-1]))
    descriptor = os.open("convention.txt", os.O_WRONLY | os.O_CREAT, dir_fd=descriptors[-1])
    os.write(descriptor, SAMPLES[0].read_bytes())
    for handle in [descriptor, *descriptors]:
        os.close(handle)
    files, skipped = collect([tmp_path])
    assert files == []
    [error] = skipped
    assert error["type_erreur"] == "chemin_trop_long"
    assert error["message"].startswith("chemin de ")
    assert error["message"].endswith("plus long que ce que le système accepte (4096) : dossier non parcouru")


def test_two_files_of_one_name_in_two_subfolders_keep_two_names_and_their_own_corrections(tmp_path):
    inbox = tmp_path / "in"
    for folder, sample in (("2020", SAMPLES[1]), ("2021", SAMPLES[2])):
        (inbox / folder).mkdir(parents=True)
        shutil.copy(sample, inbox / folder / "convention.txt")
    (inbox / "corrections.csv").write_text(
        "fichier_source,champ,valeur\n"
        "2021/convention.txt,Délégant · sigle,CORRIGE\n"
        "convention.txt,Délégant · sigle,AMBIGU\n",
        encoding="utf-8",
    )
    summary = run([inbox], tmp_path / "out", QUICK)
    records = {r["fichier_source"]: r for r in records_of(tmp_path / "out")}
    assert sorted(records) == ["2020/convention.txt", "2021/convention.txt"]
    assert records["2021/convention.txt"]["delegant"]["sigle"] == "CORRIGE"
    assert records["2020/convention.txt"]["delegant"]["sigle"] != "CORRIGE"
    assert summary.notices == [
        "corrections.csv, ligne 3 : « convention.txt » désigne plusieurs fichiers "
        "(« 2020/convention.txt », « 2021/convention.txt ») : écrire son chemin"
    ]


def test_a_correction_by_bare_name_still_finds_the_one_file_of_that_name(tmp_path):
    inbox = tmp_path / "in"
    (inbox / "2021").mkdir(parents=True)
    shutil.copy(SAMPLES[2], inbox / "2021" / "seule.txt")
    (inbox / "corrections.csv").write_text(
        "fichier_source,champ,valeur\nseule.txt,Délégant · sigle,CORRIGE\n", encoding="utf-8"
    )
    summary = run([inbox], tmp_path / "out", QUICK)
    assert summary.notices == []
    assert records_of(tmp_path / "out")[0]["delegant"]["sigle"] == "CORRIGE"


def test_an_output_that_is_a_symbolic_link_stays_one_and_its_target_gets_the_dataset(tmp_path):
    target = tmp_path / "donnees-2026"
    target.mkdir()
    (target / "notes.txt").write_text("gardé", encoding="utf-8")
    link = tmp_path / "sortie"
    link.symlink_to(target)
    for _ in range(2):  # the first run fills the folder, the second swaps it
        run(SAMPLES[:2], link, QUICK)
        assert link.is_symlink() and os.readlink(link) == str(target)
        assert len(records_of(target)) == 2
    assert (target / "notes.txt").read_text(encoding="utf-8") == "gardé"
    assert not [p.name for p in tmp_path.iterdir() if ".building" in p.name or ".spool" in p.name]
