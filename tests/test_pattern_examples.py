"""Every example written beside a pattern in patterns/*.yaml gives the value it promises."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import ROOT, SAMPLES, get

from pipeline.errors import NotAConvention
from pipeline.extract.acts import split_acts
from pipeline.extract.amounts import Cell, figures_and_words, table_amounts
from pipeline.extract.checks import failed_checks
from pipeline.extract.chorus import FIELDS, ocr_digits
from pipeline.extract.kind import check_convention
from pipeline.extract.parties import classify_role
from pipeline.extract.values import parse_date
from pipeline.model import Document
from pipeline.patterns import load_patterns

PATTERNS = load_patterns()


def examples(concern: str, key: str | None = None) -> list[dict]:
    node = PATTERNS[concern][key] if key else PATTERNS[concern]
    return node["examples"]


def chorus_examples():
    for name in FIELDS:
        for example in PATTERNS["chorus"][name]["examples"]:
            yield pytest.param(name, example, id=f"{name}:{example['text'][:40]}")


@pytest.mark.parametrize(("field", "example"), list(chorus_examples()))
def test_chorus_example(extract_text, field, example):
    assert extract_text(example["text"])[field] == example["expect"]


@pytest.mark.parametrize("example", examples("chorus", "ocr_confusions"), ids=lambda e: e["text"])
def test_ocr_confusion_example(example):
    assert ocr_digits(example["text"], PATTERNS, example["field"]) == example["expect"]


@pytest.mark.parametrize("example", examples("about"), ids=lambda e: e["text"][:40])
def test_about_example(extract_text, example):
    assert extract_text(example["text"])[example["field"]] == example["expect"]


@pytest.mark.parametrize("example", examples("terms"), ids=lambda e: e["text"][:50])
def test_terms_example(extract_text, example):
    assert extract_text(example["text"])[example["field"]] == example["expect"]


@pytest.mark.parametrize("example", examples("signature"), ids=lambda e: e["text"][:40])
def test_signature_example(extract_text, example):
    record = extract_text("Convention.\n" * 30 + example["text"])
    for field, expected in example["expect"].items():
        assert record[field] == expected, field


@pytest.mark.parametrize("example", examples("products"), ids=lambda e: e["text"][:40])
def test_products_example(extract_text, example):
    assert extract_text(example["text"])["produits"] == example["expect"]


@pytest.mark.parametrize("example", examples("amounts"), ids=lambda e: e["text"][:40])
def test_amounts_example(extract_text, example):
    assert extract_text(example["text"])["montants"] == example["expect"]


@pytest.mark.parametrize("example", examples("parties"), ids=lambda e: e["text"][:40])
def test_parties_example(extract_text, example):
    record = extract_text(example["text"])
    for path, expected in example["expect"].items():
        assert get(record, path) == expected, path


@pytest.mark.parametrize("example", examples("roles"), ids=lambda e: e["word"])
def test_role_example(example):
    assert classify_role(example["word"], PATTERNS["roles"]) == example["expect"]


@pytest.mark.parametrize("example", examples("kinds"), ids=lambda e: e["text"][:30])
def test_kind_example(example):
    doc = Document("test.txt", example["text"])
    if example.get("convention"):
        assert check_convention(doc, PATTERNS).value == "convention"
    else:
        with pytest.raises(NotAConvention, match=example.get("reason", "")):
            check_convention(doc, PATTERNS)


@pytest.mark.parametrize("example", examples("acts"), ids=lambda e: e["text"][:30])
def test_acts_example(example):
    doc = Document("test.txt", example["text"])
    starts = [doc.text[start:end] for start, end in split_acts(doc, PATTERNS)]
    assert len(starts) == len(example["acts"])
    heads = [text[: len(expected)] for text, expected in zip(starts, example["acts"], strict=True)]
    assert heads == example["acts"]


@pytest.mark.parametrize("example", examples("act"), ids=lambda e: e["text"][:40])
def test_act_example(extract_text, example):
    record = extract_text(example["text"])
    for path, expected in example["expect"].items():
        assert get(record, path) == expected, path


@pytest.mark.parametrize("example", [e for e in examples("values") if "date" in e], ids=lambda e: e["date"])
def test_date_example(example):
    assert parse_date(example["date"]) == date.fromisoformat(example["expect"])


@pytest.mark.parametrize(
    "example", [e for e in examples("values") if "amount" in e], ids=lambda e: e["amount"]
)
def test_amount_value_example(example):
    found = figures_and_words(Cell(example["amount"], 0), PATTERNS)
    assert [value for value, *_ in found] == [example["expect"]]


def test_table_amounts_ignore_a_table_without_credit_headers():
    doc = Document("t.txt", "\tDINUM\tDNUM\nRGPD\tObligation\tMise en œuvre\n")
    assert table_amounts(doc, PATTERNS).items == []


@pytest.mark.parametrize("example", examples("review"), ids=lambda e: ",".join(e["expect"]) or "none")
def test_review_check_example(example):
    settings = PATTERNS["review"]
    failed = failed_checks(example["record"], settings["earliest_signature"], date(2026, 1, 1))
    assert [name for name, _ in failed] == example["expect"]
    assert {name for name, _ in failed} <= set(settings["checks"])


def rules_run_near_their_words() -> list[tuple[str, str, tuple]]:
    """Each rule with `near`: its concern, its field, and the keys of its pattern."""
    found = [
        ("terms", field, (field, index, "pattern"))
        for field, rules in PATTERNS["terms"].items()
        if isinstance(rules, list)
        for index, rule in enumerate(rules)
        if "near" in rule
    ]
    found += [
        ("chorus", field, (field, "rules", index, "pattern"))
        for field in FIELDS
        for index, rule in enumerate(PATTERNS["chorus"][field]["rules"])
        if "near" in rule
    ]
    return found


def field_examples(concern: str, field: str) -> list[str]:
    if concern == "chorus":
        return [example["text"] for example in PATTERNS["chorus"][field]["examples"]]
    return [example["text"] for example in PATTERNS[concern]["examples"] if example["field"] == field]


TEXTS = [*SAMPLES, *sorted((ROOT / "tests" / "texts").glob("*.txt"))]


@pytest.mark.parametrize(("concern", "field", "keys"), rules_run_near_their_words(), ids=str)
def test_a_rule_run_near_its_words_finds_what_a_full_scan_finds(concern, field, keys):
    """Every text of the tests, and every example of the field, scanned whole and around the
    rule's words: the same matches, each holding one of the words."""
    texts = [path.read_text(encoding="utf-8") for path in TEXTS] + field_examples(concern, field)
    words = PATTERNS.near(concern, *keys)
    found = 0
    for text in texts:
        doc = Document("test.txt", text)
        whole = [m.span() for m in PATTERNS.scan(doc, concern, keys, 0, len(doc.plain))]
        assert [m.span() for m in PATTERNS.finditer(doc, concern, *keys)] == whole
        assert all(any(w in doc.lower[a:b] for w in words) for a, b in whole)
        found += len(whole)
    assert found, f"no text of the tests exercises the rule {concern} {keys}"


@pytest.mark.parametrize("example", PATTERNS["roles"]["body_examples"], ids=lambda e: e["text"][-50:])
def test_roles_said_in_the_body_example(extract_text, example):
    record = extract_text(example["text"])
    for role, expected in example["expect"].items():
        assert expected in (record[role]["sigle"], record[role]["nom"]), role
