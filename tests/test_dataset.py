"""The dataset is ready for data.gouv.fr: stable ids, typed CSVs, schemas, a valid package."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import SAMPLES
from test_schema import validata_errors

from pipeline.batch import Options, Summary, publishable, run
from pipeline.dataset.package import validate_package, write_package
from pipeline.dataset.tables import TABLES, schema
from pipeline.patterns import load_patterns

PANDAS_TYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean"}


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    out = tmp_path_factory.mktemp("dataset")
    run(SAMPLES, out, Options(jobs=1, use_spacy=False))
    return out


def read_typed(outdir, table: str) -> pd.DataFrame:
    fields = schema(table)["fields"]
    dtypes = {f["name"]: PANDAS_TYPES[f["type"]] for f in fields if f["type"] in PANDAS_TYPES}
    dates = [f["name"] for f in fields if f["type"] == "date"]
    return pd.read_csv(outdir / f"{table}.csv", dtype=dtypes, parse_dates=dates, encoding="utf-8")


def test_the_samples_dataset_validates_against_its_schemas(outdir):
    assert validate_package(outdir / "datapackage.json") == []


def test_the_package_describes_four_resources_under_the_licence_ouverte(outdir):
    package = json.loads((outdir / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in package["resources"]] == ["conventions", "montants", "signataires", "parties"]
    assert package["licenses"][0]["title"] == "Licence Ouverte / Open Licence version 2.0"
    assert package["created"].endswith("Z")
    for name in TABLES:
        copied = json.loads((outdir / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert copied == schema(name)


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES)
def test_validata_finds_no_error_in_each_csv(outdir, table):
    assert validata_errors(outdir / f"{table}.csv", outdir / f"{table}.schema.json") == []


def test_each_csv_encoding_is_declared_and_validates_with_or_without_a_byte_order_mark(outdir, tmp_path):
    package = json.loads((outdir / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["encoding"] for r in package["resources"]} == {"utf-8-sig"}
    for name in TABLES:
        (tmp_path / f"{name}.csv").write_bytes(
            (outdir / f"{name}.csv").read_bytes().removeprefix(b"\xef\xbb\xbf")
        )
    write_package(tmp_path, [])
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["encoding"] for r in package["resources"]} == {"utf-8"}
    assert validate_package(tmp_path / "datapackage.json") == []


def test_csv_reads_back_with_schema_types_accents_and_numbers_intact(outdir):
    records = {r["id"]: r for r in json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))}
    table = read_typed(outdir, "conventions")
    for row in table.itertuples():
        record = records[row.id]
        assert row.delegant_nom == record["delegant"]["nom"]
        assert row.montant_total == record["montant_total"]
        assert (None if pd.isna(row.date_signature) else row.date_signature.date().isoformat()) == (
            record["date_signature"]
        )
    assert "Délégation générale à l'emploi et à la formation professionnelle" in set(table.delegant_nom)


def test_amounts_and_signatories_join_on_the_convention_id(outdir):
    conventions = read_typed(outdir, "conventions")
    for table in ("montants", "signataires"):
        rows = read_typed(outdir, table)
        assert set(rows.convention_id) <= set(conventions.id)
    records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
    amounts = read_typed(outdir, "montants")
    assert amounts.montant.tolist() == [m["montant"] for r in records for m in r["montants"]]


def test_ids_are_stable_across_runs(outdir, tmp_path):
    run(SAMPLES, tmp_path, Options(jobs=1, use_spacy=False))
    first = read_typed(outdir, "conventions").id.tolist()
    assert read_typed(tmp_path, "conventions").id.tolist() == first


def test_a_value_the_schema_refuses_becomes_a_warning_on_its_record(outdir, tmp_path):
    records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
    records[1]["centre_financier"] = "UO inconnue"
    publishable(Summary(records), tmp_path, load_patterns()["review"])
    written = json.loads((tmp_path / "conventions.json").read_text(encoding="utf-8"))
    assert (
        "contrôle du jeu de données : conventions.csv, ligne 3 : « UO inconnue » ne respecte pas la forme "
        "attendue de la colonne centre_financier" in written[1]["warnings"]
    )
    assert not any("contrôle du jeu de données" in w for w in written[0]["warnings"])


def test_extra_fields_title_object_and_delegation_type_are_filled(outdir):
    table = read_typed(outdir, "conventions")
    assert set(table.type_delegation) == {"gestion de crédits"}
    assert table.intitule.str.startswith("Convention de délégation de gestion").all()
    assert table.objet.notna().all()


@pytest.mark.parametrize("readme", ["README.md", "schema/README.md"])
def test_readme_column_reference_is_generated_from_the_schemas(readme, tmp_path):
    from conftest import ROOT

    from pipeline.dataset.docs import update_readme

    copy = tmp_path / "README.md"
    copy.write_text((ROOT / readme).read_text(encoding="utf-8"), encoding="utf-8")
    assert update_readme(copy) is False, "run `python -m pipeline docs` to regenerate the README"


def published(records: list[dict], folder) -> dict[str, pd.DataFrame]:
    publishable(Summary(records), folder, load_patterns()["review"])
    return {table: read_typed(folder, table) for table in TABLES}


def with_new_fields(record: dict) -> dict:
    """A sample record as the extraction of acts, publications and avenants fills it."""
    return record | {
        "nature": "avenant",
        "nor": "MENF2034793X",
        "publication": {"journal": "BOC", "numero": "20"},
        "date_publication": "2020-05-25",
        "convention_modifiee": {"reference": "convention du 2 mars 2015", "date": "2015-03-02"},
        "parties": [
            {"role": "delegant", **record["delegant"]},
            {"role": "delegataire", **record["delegataire"]},
            {
                "role": "delegataire",
                "nom": "Direction des affaires financières",
                "sigle": "DAF",
                "adresse": None,
                "representant": {"nom": "Anne Petit", "fonction": "directrice"},
            },
        ],
    }


def test_act_publication_and_amended_convention_fill_their_columns(outdir, tmp_path):
    records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
    tables = published([with_new_fields(records[0]), records[1]], tmp_path)
    first, second = tables["conventions"].iloc[0], tables["conventions"].iloc[1]
    assert (first.nature, first.nor, first.publication_journal, first.publication_numero) == (
        "avenant",
        "MENF2034793X",
        "BOC",
        "20",
    )
    assert first.date_publication.date().isoformat() == "2020-05-25"
    assert first.convention_modifiee_reference == "convention du 2 mars 2015"
    assert first.convention_modifiee_date.date().isoformat() == "2015-03-02"
    assert second.nature == "convention"
    assert second[["nor", "publication_journal", "date_publication"]].isna().all()
    assert validate_package(tmp_path / "datapackage.json") == []


def test_parties_csv_has_every_party_in_text_order(outdir, tmp_path):
    records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
    parties = published([with_new_fields(records[0])], tmp_path)["parties"]
    assert parties.rang.tolist() == [1, 2, 3]
    assert parties.role.tolist() == ["delegant", "delegataire", "delegataire"]
    first = records[0]
    assert parties.sigle.tolist() == [first["delegant"]["sigle"], first["delegataire"]["sigle"], "DAF"]
    assert parties.representant_nom.iloc[2] == "Anne Petit"
    conventions = read_typed(tmp_path, "conventions")
    assert conventions.delegataire_sigle.iloc[0] == records[0]["delegataire"]["sigle"]


def test_a_record_that_lists_no_parties_keeps_its_delegant_and_delegataire_in_parties_csv(outdir):
    records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
    parties = read_typed(outdir, "parties")
    assert len(parties) == 2 * len(records)
    assert parties.role.tolist() == ["delegant", "delegataire"] * len(records)
    assert parties.nom.tolist() == [r[role]["nom"] for r in records for role in ("delegant", "delegataire")]
