"""Arbitrary text never breaks the text stages, evidence always matches the text, and the whole
extract gives every damaged file one record or one error line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import NotAConvention
from pipeline.extract.record import build_record, extract_document
from pipeline.model import Document
from pipeline.patterns import load_patterns

pytestmark = pytest.mark.slow

PATTERNS = load_patterns()

# Pieces of real conventions, so that the rules fire on what they are meant for, mixed with noise.
PIECES = [
    "Entre\n",
    "Et\n",
    "La Direction interministérielle du numérique (DINUM)\n",
    "Représentée par Nadi BOU HANNA, Directeur interministériel du numérique,\n",
    "Ci-après dénommée « le délégant »,\n",
    "« délégataire »",
    "Il a été convenu ce qui suit :\n",
    "\tAE\tCP\n",
    "2020\t100 000 €\t20 000€\n",
    "Centre financier :\t0352-CFSE-CFIN-\n",
    "Domaine fonctionnel :\t0352, action 1\n",
    "Axe ministériel 1\t",
    "CENT MILLE EUROS",
    "prend effet à la date de signature",
    "jusqu'au 31 décembre de l'année",
    "préavis de trois mois",
    "Fait le Paris\nà 25/03/2020\n",
    "Fait à Paris, le **20 FEV. 2020**\n",
    "Le délégant,\n",
    "Par délégation,\n",
    "Cécile Lagache\n",
    "Annexes\n",
    "**",
    "\n",
    "\t",
]
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=40)), max_size=40).map("".join)


def assert_evidence_matches(record: dict, text: str) -> None:
    for field, evidence in record["evidence"].items():
        assert text[evidence["start"] : evidence["end"]] == evidence["text"], field


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_text_stages_accept_any_text_and_keep_evidence_exact(text):
    doc = Document("x.txt", text)
    record = build_record(doc, PATTERNS)
    assert len(doc.text) == len(text)  # control characters become spaces: offsets hold
    assert_evidence_matches(record, doc.text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_a_text_is_a_record_or_not_a_convention(text):
    doc = Document("x.txt", text)
    try:
        record = extract_document(doc, PATTERNS)
    except NotAConvention:
        return
    assert_evidence_matches(record, doc.text)


# The whole extract, on files as they arrive damaged: conventions (texts and text PDFs) with
# bytes flipped, cut short or inserted. Each file must end as one record or one error line.
def text_pdf_bytes(text: str) -> bytes:
    import tempfile

    from bench.synth import text_pdf

    with tempfile.TemporaryDirectory() as folder:
        text_pdf(text, Path(folder) / "x.pdf")
        return (Path(folder) / "x.pdf").read_bytes()


ORIGINALS = [(".txt", path.read_bytes()) for path in SAMPLES[:3]] + [
    (".pdf", text_pdf_bytes(SAMPLES[3].read_text(encoding="utf-8")))
]


@st.composite
def damaged(draw) -> tuple[str, bytes]:
    suffix, data = draw(st.sampled_from(ORIGINALS))
    data = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
    return suffix, bytes(data)


def no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.lists(damaged(), min_size=1, max_size=4))
def test_whole_extract_gives_each_damaged_file_one_record_one_error_or_one_duplicate_line(files):
    import csv
    import json
    import tempfile

    from pipeline.batch import run
    from pipeline.model import Limits, Options

    with tempfile.TemporaryDirectory() as folder:
        inbox, out = Path(folder) / "in", Path(folder) / "out"
        inbox.mkdir()
        names = []
        for number, (suffix, data) in enumerate(files):
            names.append(f"f{number}{suffix}")
            (inbox / names[-1]).write_bytes(data)
        options = Options(Limits(max_seconds=30), jobs=1, use_spacy=False, use_cache=False)
        summary = run([inbox], out, options)
        records = json.loads(
            (out / "conventions.json").read_text(encoding="utf-8"), parse_constant=no_constant
        )
        with open(out / "errors.csv", encoding="utf-8-sig") as handle:
            errors = list(csv.DictReader(handle))
        # Another reading of a convention kept from another file is listed in doublons.csv (a
        # copy of a file, the same text, has its error line too).
        with open(out / "doublons.csv", encoding="utf-8-sig") as handle:
            duplicates = {line["fichier"] for line in csv.DictReader(handle)}
        ended = [r["fichier_source"] for r in records] + [Path(e["fichier"]).name for e in errors]
        ended += sorted(duplicates - set(ended))
        assert sorted(ended) == sorted(names)
        assert not [e for e in errors if e["type_erreur"] == "erreur_interne"], errors
        assert len(summary.records) == len(records)
        for record in records:
            assert_evidence_matches_pages(record)


def assert_evidence_matches_pages(record: dict) -> None:
    pages = len(record["pages"])
    for field, evidence in record["evidence"].items():
        assert evidence.get("page") is None or 1 <= evidence["page"] <= pages, field
