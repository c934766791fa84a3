"""The digital products a convention finances: named in prose, or in the amounts table."""

from __future__ import annotations

from pipeline.extract.names import clean, fold
from pipeline.model import Candidate, Document, warning
from pipeline.patterns import Patterns


def extract_products(
    doc: Document, patterns: Patterns, amounts: list[Candidate], sigles: set[str]
) -> list[Candidate]:
    named = prose_products(doc, patterns, sigles)
    financed = [a for a in amounts if a.value.produit]
    if not financed:
        return named
    found: dict[str, Candidate] = {}
    for amount in financed:
        found.setdefault(
            fold(amount.value.produit),
            Candidate(amount.value.produit, amount.evidence, 0.85, "products.amounts"),
        )
    for product in named:
        if fold(product.value) not in found:
            doc.warnings.append(warning("produit_sans_montant", product=product.value))
    return list(found.values())


def prose_products(doc: Document, patterns: Patterns, sigles: set[str]) -> list[Candidate]:
    skipped = {fold(word) for word in patterns["products"]["not_products"]} | {fold(s) for s in sigles}
    found: dict[str, Candidate] = {}
    for trigger in patterns.finditer(doc, "products", "trigger"):
        match = patterns.regex("products", "name").match(doc.plain, trigger.end())
        if not match:
            continue
        for group in ("quoted", "plain", "second"):
            if not match[group]:
                continue
            name = clean(match[group])
            if fold(name) in skipped or not name:
                continue
            found.setdefault(
                fold(name), Candidate(name, doc.evidence(*match.span(group)), 0.75, f"products.{group}")
            )
    return list(found.values())
