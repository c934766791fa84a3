"""The one reading every document gets: what it mends, and that evidence still quotes the source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.synth import text_pdf
from pipeline.extract.record import extract_document
from pipeline.model import Document, PageInfo
from pipeline.read.files import read_file
from pipeline.read.normalise import normalise, rules

EXAMPLES = [
    pytest.param(example, id=f"{group}:{example['text'][:40]}")
    for group in ("furniture", "hyphen", "join", "spaced", "label")
    for example in rules()[f"{group}_examples"]
]
WRAPPED = Path(__file__).resolve().parent / "texts" / "normalise_wrapped_pages.txt"


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_example_reads_as_written_beside_it(example):
    assert normalise(example["text"]).text == example["expect"]


def evidence_of(doc: Document, words: str):
    start = doc.plain.index(words)
    return doc.evidence(start, start + len(words))


def test_a_word_hyphenated_at_a_line_end_is_whole_and_quotes_both_halves():
    doc = Document("t.txt", "la gestion des terri-\ntoires ruraux")
    evidence = evidence_of(doc, "territoires")
    assert (evidence.text, evidence.start, evidence.end) == ("terri-\ntoires", 15, 28)


def test_spaced_letters_are_one_word_that_quotes_them_spaced():
    doc = Document("t.txt", "NOR : D E F S 1 6 0 1 2 3 4 A\n")
    assert evidence_of(doc, "DEFS1601234A").text == "D E F S 1 6 0 1 2 3 4 A"


def test_a_phrase_broken_over_two_lines_matches_and_quotes_the_break(extract_text):
    record = extract_text("La présente convention prend effet à compter\ndu 1er janvier 2025.\n")
    assert record["prise_effet"] == "2025-01-01"
    assert "à compter\ndu 1er janvier 2025" in record["evidence"]["prise_effet"]["text"]


def test_a_running_footer_inside_a_table_leaves_its_rows_together():
    head = "PRÉFECTURE DU CHER\nExercice\tAE\tCP\n2024\t10 €\t5 €\n"
    text = head + "\nPage 2 sur 3\nPRÉFECTURE DU CHER\n\n2025\t20 €\t8 €\n"
    assert normalise(text).text == head + "2025\t20 €\t8 €\n"


def test_a_header_repeated_at_a_pdf_page_top_is_dropped_and_evidence_names_its_page():
    page1 = "PRÉFECTURE DU CHER\nEntre\nLa direction A, délégant, d'une part,\n"
    page2 = "PRÉFECTURE DU CHER\nEt\nLa direction B, délégataire, d'autre part.\n"
    text = page1 + "\n\n" + page2
    doc = Document("t.pdf", text, [PageInfo(1, 0, "text"), PageInfo(2, len(page1) + 2, "text")])
    assert doc.plain.count("PRÉFECTURE DU CHER") == 1
    evidence = evidence_of(doc, "La direction B")
    assert (evidence.page, text[evidence.start : evidence.end]) == (2, "La direction B")


def test_a_sentence_cut_by_a_pdf_page_break_runs_on_and_each_part_keeps_its_page():
    page1 = "Le délégant confie au délégataire la gestion des crédits de la"
    text = page1 + "\n\ndélégation de gestion.\n"
    doc = Document("t.pdf", text, [PageInfo(1, 0, "text"), PageInfo(2, len(page1) + 2, "text")])
    assert doc.plain == page1 + " délégation de gestion.\n"
    assert (evidence_of(doc, "crédits").page, evidence_of(doc, "délégation de").page) == (1, 2)
    assert evidence_of(doc, "de la délégation").text == "de la\n\ndélégation"


def test_a_damaged_label_is_read_mended_and_told_in_french_quoting_the_source():
    doc = Document("t.txt", "Centre fmancier : 0178-CMAR-SSFB\n")
    assert doc.plain.startswith("Centre financier : 0178-CMAR-SSFB")
    assert evidence_of(doc, "Centre financier").text == "Centre fmancier"
    assert [warning.text() for warning in doc.warnings] == [
        "libellé abîmé lu comme « Centre financier » : le texte porte « Centre fmancier »"
    ]


def test_a_text_without_anything_to_mend_reads_as_it_is_written():
    text = "Entre :\nLa direction A,\n\nEt :\nLa direction B.\n"
    doc = Document("t.txt", text)
    assert (doc.plain, doc.origin) == (text, list(range(len(text) + 1)))


def test_the_text_and_its_text_pdf_give_the_same_record(patterns, tmp_path):
    text = WRAPPED.read_text(encoding="utf-8")
    text_pdf(text, tmp_path / "wrapped.pdf")
    from_text = extract_document(Document(WRAPPED.name, text), patterns)
    from_pdf = extract_document(read_file(tmp_path / "wrapped.pdf"), patterns)
    expected = json.loads(WRAPPED.with_suffix(".json").read_text(encoding="utf-8"))
    for field in {name.split(".")[0] for name in expected}:
        assert from_pdf[field] == from_text[field], field
    assert from_pdf["warnings"] == from_text["warnings"]
