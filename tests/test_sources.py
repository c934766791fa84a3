"""The address of each act's publication, from the table the producer gives with --sources, in the
records, the CSV and the description."""

from __future__ import annotations

import csv
import json
import re

import pytest
from click.testing import CliRunner
from conftest import SAMPLES

from pipeline.cli import cli
from pipeline.dataset.sources import SourcesError, read_sources

ADDRESS = "https://www.example.org/bulletin-officiel/2020/20.pdf"


def extract(tmp_path, *options: str) -> list[dict]:
    out = tmp_path / "sortie"
    args = ["extract", *map(str, SAMPLES[:2]), "-o", str(out), "--no-spacy", "-j", "1", *options]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    with (out / "conventions.csv").open(encoding="utf-8-sig") as stream:
        return list(csv.DictReader(stream))


def test_each_convention_gets_the_address_of_its_file_in_the_csv_and_the_json(tmp_path):
    table = tmp_path / "sources.csv"
    table.write_text(
        f"\ufefffichier_source;url_source\ndossier/{SAMPLES[1].name};{ADDRESS}\n", encoding="utf-8"
    )
    rows = extract(tmp_path, "--sources", str(table))
    assert {row["fichier_source"]: row["url_source"] for row in rows} == {
        SAMPLES[0].name: "",
        SAMPLES[1].name: ADDRESS,
    }
    records = json.loads((tmp_path / "sortie" / "conventions.json").read_text(encoding="utf-8"))
    assert [record["url_source"] for record in records] == [None, ADDRESS]


def test_without_a_table_the_column_is_there_and_empty(tmp_path):
    assert [row["url_source"] for row in extract(tmp_path)] == ["", ""]


def test_a_changed_table_is_applied_on_a_cached_run(tmp_path):
    table = tmp_path / "sources.csv"
    table.write_text(f"fichier_source,url_source\n{SAMPLES[0].name},{ADDRESS}\n", encoding="utf-8")
    extract(tmp_path, "--sources", str(table))
    table.write_text(f"fichier_source,url_source\n{SAMPLES[0].name},{ADDRESS}?v=2\n", encoding="utf-8")
    assert extract(tmp_path, "--sources", str(table))[0]["url_source"] == f"{ADDRESS}?v=2"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("fichier,adresse\na.pdf,https://a.fr\n", "la première ligne doit être fichier_source,url_source"),
        (
            "fichier_source,url_source\na.pdf,javascript:alert(1)\n",
            "ligne 2 : « javascript:alert(1) » n'est pas",
        ),
        (
            "fichier_source,url_source\na.pdf,https://a.fr\na.pdf,https://b.fr\n",
            "ligne 3 : deux adresses pour a.pdf",
        ),
    ],
)
def test_a_table_that_cannot_be_used_is_refused_in_french(tmp_path, content, message):
    table = tmp_path / "sources.csv"
    table.write_text(content, encoding="utf-8")
    with pytest.raises(SourcesError, match=re.escape(message)):
        read_sources(table)
    result = CliRunner().invoke(
        cli, ["extract", str(SAMPLES[0]), "-o", str(tmp_path / "o"), "--sources", str(table)]
    )
    assert result.exit_code == 2 and message in result.output
