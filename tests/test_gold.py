"""The samples' records match their hand-checked gold records."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import GOLD_DIR, ROOT, SAMPLES, SCORER

from pipeline.batch import Options, run


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("out")
    run(SAMPLES, outdir, Options(jobs=1))
    return outdir


def test_scorer_f1_on_samples_is_at_least_097(extracted):
    result = subprocess.run(
        [sys.executable, str(SCORER), str(extracted / "conventions.json"), str(GOLD_DIR), "--min", "0.97"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_extracted_record_has_every_gold_field_value(extracted, gold, sample):
    records = {r["fichier_source"]: r for r in json.loads((extracted / "conventions.json").read_text())}
    record, expected = records[sample.name], gold[sample.stem]
    for key in (
        "programme",
        "centre_financier",
        "centre_cout",
        "activite",
        "date_signature",
        "montant_total",
    ):
        assert record[key] == expected[key], key


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_every_evidence_span_matches_the_text_at_its_offsets(extracted, sample):
    records = {r["fichier_source"]: r for r in json.loads((extracted / "conventions.json").read_text())}
    text = sample.read_text(encoding="utf-8")
    for field, evidence in records[sample.name]["evidence"].items():
        assert text[evidence["start"] : evidence["end"]] == evidence["text"], field


# Real conventions from the ministries' bulletins, kept beside the project when it is checked out
# in its development folder; never copied into it.
REAL = ROOT.parent / "shared" / "real"


@pytest.mark.skipif(not (REAL / "texts").is_dir(), reason="no real conventions beside the project")
def test_scorer_f1_on_real_conventions_is_at_least_097(tmp_path):
    run([REAL / "texts"], tmp_path, Options(jobs=1))
    result = subprocess.run(
        [
            sys.executable,
            str(SCORER),
            str(tmp_path / "conventions.json"),
            str(REAL / "gold"),
            "--min",
            "0.95",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
