"""The installed command: found on the path of the virtual environment, its version, a verbose
mode that says more, and an output folder it cannot use refused in one line before any work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
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
    assert f"{SAMPLES[4].name} : 1 page(s), 2 avertissement(s)" in lines
    assert "  - date de signature laissée en blanc" in lines
    assert any(line.startswith(f"écrit dans {tmp_path}") for line in lines)
    assert CliRunner().invoke(cli, [*args, "--verbose"]).output == verbose.output


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
