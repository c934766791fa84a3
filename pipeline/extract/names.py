"""Normalise how people and organisations are written: "Nadi BOU-HANNA" -> "Nadi Bou-Hanna"."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

PARTICLES = {"de", "du", "des", "d'", "van", "von"}
# "Le" and "La" begin a surname ("Yannick Le Bihan") unless they follow "de" ("de la Fontaine").
ARTICLES = {"le", "la"}


def person_name(raw: str) -> str:
    words = [fix_case(word) for word in clean(raw).split()]
    return " ".join(
        word.lower() if index and is_particle(word.lower(), words[index - 1].lower()) else word
        for index, word in enumerate(words)
    )


def is_particle(word: str, previous: str) -> bool:
    return word in PARTICLES or (word in ARTICLES and previous == "de")


def fix_case(word: str) -> str:
    if word.isupper() and len(word) > 1:
        return "-".join(part.capitalize() for part in word.split("-"))
    return word


def org_name(raw: str) -> str:
    """Sentence case for a name set in Title Case; acronyms and plain names stay."""
    text = clean(raw)
    words = text.split()
    content = [re.sub(r"^[lLdD]['’]", "", word) for word in words[1:] if len(word) > 3]
    # One capitalised word is a proper noun ("Préfet du Finistère"), not Title Case; nor are
    # place names after a lower-case word ("Préfet de la région Centre-Val de Loire").
    titled = (
        len(content) > 1
        and content[0][:1].isupper()
        and sum(1 for word in content if word[:1].isupper()) > len(content) / 2
    )
    if titled and len(words) > 2:
        words = [w if w.isupper() and len(w) > 1 else w.lower() for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def clean(raw: str) -> str:
    return " ".join(raw.replace("*", " ").split()).strip(" ,;:.")


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """A comparison key: no accents, no case, hyphens and spaces alike (the same labels and
    names recur in every text: each is folded once)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[-'’.,]", " ", text).split())
