"""schema/ is laid out as schema.data.gouv.fr takes it, and its examples pass the checks it runs."""

from __future__ import annotations

import csv
import json
import re
import subprocess

import pytest
from conftest import ROOT
from frictionless import Package, Resource, Schema, system

from pipeline.dataset.tables import SCHEMA_DIR, TABLES, schema

VALIDATA = ROOT / ".venv-validata" / "bin" / "validata"
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


def validata_errors(csv_path, schema_path) -> list[str]:
    """What validata-core, as schema.data.gouv.fr runs it, finds in a CSV."""
    if not VALIDATA.exists():
        pytest.skip("validata-core is installed by `make test` in .venv-validata")
    answer = subprocess.run(
        [str(VALIDATA), "--schema", str(schema_path), str(csv_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(answer.stdout)
    errors = [*report["errors"], *(e for task in report["tasks"] for e in task["errors"])]
    return [f"{e.get('code')}: {e.get('message')}" for e in errors]


def frictionless_errors(csv_path, schema_path) -> list[str]:
    with system.use_context(trusted=True):
        report = Resource(path=str(csv_path), schema=Schema(str(schema_path))).validate()
    return [error.message for task in report.tasks for error in task.errors]


def write_rows(path, table: str, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=[f["name"] for f in schema(table)["fields"]])
        writer.writeheader()
        writer.writerows(rows)


def examples(table: str) -> dict:
    return {field["name"]: field["example"] for field in schema(table)["fields"]}


@pytest.mark.parametrize("table", TABLES)
def test_each_example_file_is_valid_for_frictionless(table):
    folder = SCHEMA_DIR / table
    assert frictionless_errors(folder / "exemple-valide.csv", folder / "schema.json") == []


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES)
def test_each_example_file_is_valid_for_validata(table):
    folder = SCHEMA_DIR / table
    assert validata_errors(folder / "exemple-valide.csv", folder / "schema.json") == []


@pytest.mark.slow
def test_validata_reports_a_value_that_breaks_a_constraint(tmp_path):
    row = examples("conventions") | {"centre_financier": "UO 148"}
    write_rows(tmp_path / "conventions.csv", "conventions", [row])
    errors = validata_errors(tmp_path / "conventions.csv", SCHEMA_DIR / "conventions" / "schema.json")
    assert len(errors) == 1
    assert errors[0].startswith("constraint-error")


def test_the_schema_package_validates_with_its_four_examples():
    with system.use_context(trusted=True):
        report = Package(str(SCHEMA_DIR / "datapackage.json")).validate()
    assert report.valid, report.flatten(["title", "message"])
    package = json.loads((SCHEMA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in package["resources"]] == list(TABLES)
    assert all(r["schema"] == f"{r['name']}/schema.json" for r in package["resources"])


@pytest.mark.parametrize("table", TABLES)
def test_each_schema_has_the_keys_schema_data_gouv_fr_requires(table):
    spec = schema(table)
    assert Schema.validate_descriptor(spec).valid
    for key in ("name", "title", "description", "homepage", "path", "version", "contributors", "licenses"):
        assert spec.get(key), key
    assert SEMVER.match(spec["version"])
    assert spec["licenses"][0]["name"] == "etalab-2.0"


def test_schemas_package_and_changelog_carry_one_version():
    package = json.loads((SCHEMA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    versions = {schema(table)["version"] for table in TABLES} | {package["version"]}
    assert len(versions) == 1
    changelog = (SCHEMA_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^## (\S+)", changelog, re.M)[1] == versions.pop()
    for name in ("README.md", "LICENSE.md"):
        assert (SCHEMA_DIR / name).is_file()


@pytest.mark.parametrize("table", TABLES)
def test_every_field_has_a_french_description_and_an_example_that_the_schema_accepts(table, tmp_path):
    for field in schema(table)["fields"]:
        assert field.get("description") and field.get("example") is not None, field["name"]
    write_rows(tmp_path / "row.csv", table, [examples(table)])
    assert frictionless_errors(tmp_path / "row.csv", SCHEMA_DIR / table / "schema.json") == []


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("conventions", "centre_financier", "148-CAFP-C004"),
        ("conventions", "activite", "0148010301"),
        ("conventions", "domaine_fonctionnel", "148-03"),
        ("conventions", "programme", "0148"),
        ("conventions", "nor", "MENF 2034793 X"),
        ("conventions", "nature", "arrêté"),
        ("conventions", "duree", "un an"),
        ("conventions", "montant_total", "-5"),
        ("montants", "type_credit", "AP"),
        ("montants", "montant", "-1"),
        ("parties", "role", "signataire"),
        ("parties", "rang", "0"),
    ],
)
def test_a_value_outside_the_domain_is_refused(table, column, value, tmp_path):
    write_rows(tmp_path / "row.csv", table, [examples(table) | {column: value}])
    errors = frictionless_errors(tmp_path / "row.csv", SCHEMA_DIR / table / "schema.json")
    assert len(errors) == 1 and column in errors[0]
