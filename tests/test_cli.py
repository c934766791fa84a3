"""The installed command: found on the path of the virtual environment, its version, a verbose
mode that says more, and an output folder it cannot use refused in one line before any work."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import SAMPLES

from pipeline import __version__
from pipeline.cli import cli

COMMAND = Path(sys.executable).parent / "conventions-extract"


def test_the_installed_command_gives_its_version():
    result = subprocess.run([COMMAND, "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"conventions-extract {__version__}"


def test_the_installed_command_extracts_from_any_folder(tmp_path):
    result = subprocess.run(
        [COMMAND, "extract", str(SAMPLES[0]), "-o", "sortie", "--no-spacy"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 convention extraite, 0 fichier non extrait"
    assert (tmp_path / "sortie" / "conventions.json").exists()


def test_verbose_tells_how_each_convention_was_read_and_what_to_check(tmp_path):
    args = ["extract", *map(str, SAMPLES[3:]), "-o", str(tmp_path), "--no-spacy", "-j", "1"]
    quiet = CliRunner().invoke(cli, args)
    verbose = CliRunner().invoke(cli, ["-v", *args])
    assert quiet.output.strip() == "2 conventions extraites, 0 fichier non extrait"
    lines = verbose.output.splitlines()
    assert f"{os.path.relpath(SAMPLES[4])} : 1 page(s), 2 avertissement(s)" in lines
    assert "  - date de signature laissée en blanc" in lines
    assert any(line.startswith(f"écrit dans {tmp_path}{os.sep} en ") for line in lines)
    timeless = re.compile(r" en \d+,\d s$", re.M)
    after = CliRunner().invoke(cli, [*args, "--verbose"]).output
    assert timeless.sub("", after) == timeless.sub("", verbose.output)


def refused(args: list[str]) -> list[str]:
    result = CliRunner().invoke(cli, ["extract", str(SAMPLES[0]), "--no-spacy", *args])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.output.strip().splitlines()


def test_an_output_that_is_a_file_is_refused_in_one_line(tmp_path):
    (tmp_path / "sortie.csv").write_text("déjà là", encoding="utf-8")
    assert refused(["-o", str(tmp_path / "sortie.csv")]) == [
        f"Erreur : « {tmp_path / 'sortie.csv'} » est un fichier, pas un dossier : "
        "choisir un dossier de sortie (-o)"
    ]
    assert (tmp_path / "sortie.csv").read_text(encoding="utf-8") == "déjà là"


def test_an_output_inside_a_file_is_refused_in_one_line(tmp_path):
    (tmp_path / "sortie.csv").write_text("déjà là", encoding="utf-8")
    target = tmp_path / "sortie.csv" / "dossier"
    assert refused(["-o", str(target)]) == [
        f"Erreur : impossible d'écrire dans « {target.parent} » (un élément du chemin est un fichier) : "
        "choisir un dossier de sortie accessible en écriture (-o)"
    ]


def read_only_folder(tmp_path) -> Path:
    """A folder this process cannot write to: a read-only one, or for root, which writes
    anywhere it may, one in /sys."""
    if os.geteuid() != 0:
        folder = tmp_path / "lecture-seule"
        folder.mkdir(mode=0o555)
        return folder / "sortie"
    if not Path("/sys/kernel").is_dir():
        pytest.skip("no read-only folder to try as root")
    return Path("/sys/kernel/sortie")


def test_an_output_that_cannot_be_written_is_refused_in_one_line(tmp_path):
    target = read_only_folder(tmp_path)
    [line] = refused(["-o", str(target)])
    assert line.startswith(f"Erreur : impossible d'écrire dans « {target.parent} » (")
    assert "Traceback" not in line


def extract(folder: Path, *options: str) -> Result:
    return CliRunner().invoke(
        cli, ["extract", str(folder), "-o", str(folder / "sortie"), "--no-spacy", *options]
    )


def inbox(tmp_path: Path, empty: int) -> Path:
    """A folder of one convention and `empty` empty files."""
    folder = tmp_path / "entree"
    folder.mkdir()
    (folder / SAMPLES[0].name).write_bytes(SAMPLES[0].read_bytes())
    for number in range(empty):
        (folder / f"vide-{number}.txt").write_bytes(b"")
    return folder


def test_quiet_says_nothing_when_every_file_is_read(tmp_path):
    result = extract(inbox(tmp_path, 0), "-q")
    assert result.exit_code == 0 and result.output == ""
    assert (
        CliRunner()
        .invoke(cli, ["-q", "extract", str(tmp_path / "entree"), "-o", str(tmp_path / "s2")])
        .output
        == ""
    )


def test_one_kind_of_error_on_many_files_is_told_in_one_line_with_errors_csv(tmp_path, monkeypatch):
    inbox(tmp_path, 5)
    monkeypatch.chdir(tmp_path)
    result = extract(Path("entree"), "-j", "1")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["fichier_vide : 5 fichiers, détail dans entree/sortie/errors.csv"]
    with open("entree/sortie/errors.csv", encoding="utf-8-sig") as stream:
        assert len(stream.read().splitlines()) == 1 + 5


def test_a_few_errors_are_told_one_line_each_and_quiet_groups_them(tmp_path, monkeypatch):
    inbox(tmp_path, 2)
    monkeypatch.chdir(tmp_path)
    lines = extract(Path("entree")).stderr.splitlines()
    assert lines == [f"entree/vide-{n}.txt : fichier_vide : fichier vide" for n in range(2)]
    assert extract(Path("entree"), "-q").output.splitlines() == [
        "fichier_vide : 2 fichiers, détail dans entree/sortie/errors.csv"
    ]


def test_json_gives_scripts_the_counts_the_kinds_and_the_files(tmp_path, monkeypatch):
    inbox(tmp_path, 1)
    monkeypatch.chdir(tmp_path)
    result = extract(Path("entree"), "--json")
    assert json.loads(result.stdout) == {
        "dossier": "entree/sortie",
        "conventions_extraites": 1,
        "fichiers_non_extraits": 1,
        "erreurs_par_type": {"fichier_vide": 1},
        "erreurs": [
            {"fichier": "entree/vide-0.txt", "type_erreur": "fichier_vide", "message": "fichier vide"}
        ],
        "corrections_non_appliquees": [],
        "jeu_laisse_tel_quel": False,
    }


def test_every_line_writes_a_path_the_same_way_however_it_was_given(tmp_path, monkeypatch):
    inbox(tmp_path, 1)
    monkeypatch.chdir(tmp_path)
    given = [str(tmp_path / "entree"), "entree", "./entree/../entree"]
    for path in given:
        result = CliRunner().invoke(cli, ["-v", "extract", path, "-o", f"{path}/sortie", "--no-spacy"])
        lines = result.stderr.splitlines()
        assert "entree/vide-0.txt : fichier_vide : fichier vide" in lines, path
        assert any(line.startswith(f"entree/{SAMPLES[0].name} : ") for line in lines), path
        assert any(line.startswith("écrit dans entree/sortie/ en ") for line in lines), path


@pytest.mark.parametrize("command", [[], ["extract"], ["publish"], ["review"], ["docs"]])
def test_help_names_every_value_in_french(command):
    output = CliRunner().invoke(cli, [*command, "--help"]).output
    for english in ("TEXT", "INTEGER", "FLOAT", "PATH", "FILENAME", "OUTDIR", "Usage", "Show this"):
        assert english not in output, english


def test_quiet_hides_the_progress_lines_of_a_large_batch(tmp_path, monkeypatch):
    inbox(tmp_path, 19)
    monkeypatch.chdir(tmp_path)
    assert "extraction : 20/20 fichiers" in extract(Path("entree"), "-j", "1").stderr
    assert extract(Path("entree"), "-j", "1", "-q", "--no-cache").output.splitlines() == [
        "fichier_vide : 19 fichiers, détail dans entree/sortie/errors.csv"
    ]
