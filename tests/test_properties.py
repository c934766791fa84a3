"""Arbitrary text never breaks the text stages, and evidence always matches the text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import NotAConvention
from pipeline.extract.record import build_record, extract_document
from pipeline.model import Document
from pipeline.patterns import load_patterns

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
    record = build_record(Document("x.txt", text), PATTERNS)
    assert_evidence_matches(record, text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_a_text_is_a_record_or_not_a_convention(text):
    try:
        record = extract_document(Document("x.txt", text), PATTERNS)
    except NotAConvention:
        return
    assert_evidence_matches(record, text)
