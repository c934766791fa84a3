"""schema/ is laid out as schema.data.gouv.fr takes it, and its examples pass the checks it runs."""

from __future__ import annotations

import csv
import json
import re
import subprocess

import pytest
import yaml
from conftest import ROOT
from frictionless import Package, Resource, Schema, system

from pipeline.dataset.tables import SCHEMA_DIR, TABLES, columns, schema

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
def test_each_valid_example_passes_and_each_invalid_one_fails_for_frictionless(table):
    folder = SCHEMA_DIR / table
    assert frictionless_errors(folder / "exemple-valide.csv", folder / "schema.json") == []
    assert len(frictionless_errors(folder / "exemple-invalide.csv", folder / "schema.json")) >= 2


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES)
def test_each_valid_example_passes_and_each_invalid_one_fails_for_validata(table):
    folder = SCHEMA_DIR / table
    assert validata_errors(folder / "exemple-valide.csv", folder / "schema.json") == []
    assert len(validata_errors(folder / "exemple-invalide.csv", folder / "schema.json")) >= 2


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
def test_each_schema_has_the_keys_schema_data_gouv_fr_shows(table):
    spec = schema(table)
    assert Schema.validate_descriptor(spec).valid
    for key in ("name", "title", "description", "keywords", "version", "contributors", "licenses"):
        assert spec.get(key), key
    assert SEMVER.match(spec["version"])
    assert spec["licenses"][0]["name"] == "etalab-2.0"
    assert [r["path"] for r in spec["resources"]] == ["exemple-valide.csv", "exemple-invalide.csv"]
    assert all((SCHEMA_DIR / table / r["path"]).is_file() for r in spec["resources"])


def test_no_address_names_a_repository_not_yet_created_and_the_readme_says_so():
    """homepage and path would name the schema's own repository, which is still to be created."""
    for path in SCHEMA_DIR.rglob("*.json"):
        spec = json.loads(path.read_text(encoding="utf-8"))
        assert "homepage" not in spec and "path" not in spec, path
    assert "**Ce dépôt\nreste à créer**" in (SCHEMA_DIR / "README.md").read_text(encoding="utf-8")


def test_the_catalogue_entry_declares_a_datapackage():
    entry = yaml.safe_load((SCHEMA_DIR / "repertoires.yml").read_text(encoding="utf-8"))
    assert entry["conventions-delegation-gestion"]["type"] == "datapackage"


def test_the_workflow_checks_every_table_valid_and_invalid():
    workflow = yaml.safe_load((SCHEMA_DIR / ".github" / "workflows" / "test.yml").read_text(encoding="utf-8"))
    assert workflow["jobs"]["valider"]["env"]["TABLES"].split() == list(TABLES)
    steps = " ".join(step.get("run", "") for step in workflow["jobs"]["valider"]["steps"])
    for name in (
        "exemple-valide.csv",
        "exemple-invalide.csv",
        "validata",
        "frictionless",
        "datapackage.json",
    ):
        assert name in steps


@pytest.mark.parametrize("table", TABLES)
def test_each_table_has_a_readme_whose_columns_are_generated_from_its_schema(table, tmp_path):
    from pipeline.dataset.docs import update_readme

    copy = tmp_path / "README.md"
    copy.write_text((SCHEMA_DIR / table / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert update_readme(copy, (table,)) is False, "run `python -m pipeline docs` to regenerate it"
    assert all(f"| `{name}` |" in copy.read_text(encoding="utf-8") for name in columns(table))


@pytest.mark.parametrize("table", TABLES)
def test_every_column_has_a_french_title(table):
    titles = [field["title"] for field in schema(table)["fields"]]
    assert all(title and title[0].isupper() for title in titles)
    assert len(set(titles)) == len(titles)


def test_schemas_package_and_changelog_carry_one_version():
    package = json.loads((SCHEMA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    versions = {schema(table)["version"] for table in TABLES} | {package["version"]}
    assert len(versions) == 1
    changelog = (SCHEMA_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^## (\S+)", changelog, re.M)[1] == versions.pop()
    for name in ("README.md", "LICENSE.md", "requirements.txt"):
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


def test_the_published_datapackage_carries_the_schema_keywords(tmp_path):
    from conftest import SAMPLES

    from pipeline.dataset.package import descriptor

    package = json.loads((SCHEMA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    (tmp_path / "conventions.csv").write_text("id\n", encoding="utf-8")
    for table in TABLES[1:]:
        (tmp_path / f"{table}.csv").write_text("convention_id\n", encoding="utf-8")
    assert descriptor([SAMPLES[0].name], tmp_path)["keywords"] == package["keywords"]
