"""Turn spans of text into values: dates, amounts, counts and ISO 8601 durations."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import dateparser
from text_to_num import text2num

DATE_SETTINGS = {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first", "STRICT_PARSING": True}


NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# The common written form, read without dateparser (ten times faster): "5 avril 2018",
# "1er mars 2021", "20 FEV. 2020"; months by their first letters.
WRITTEN_DATE = re.compile(r"(\d{1,2})(?:er)?\s*([^\W\d_]+)\.?\s+(\d{4})", re.IGNORECASE)
MONTHS = {
    "janv": 1, "févr": 2, "fevr": 2, "fév": 2, "fev": 2, "mars": 3, "avr": 4, "mai": 5, "juin": 6,
    "juil": 7, "août": 8, "aout": 8, "sept": 9, "sep": 9, "oct": 10, "nov": 11, "déc": 12, "dec": 12,
}  # fmt: skip


def parse_date(span: str) -> date | None:
    """Parse a date already cut out of its sentence ("20 FEV. 2020", "23/11/2020", "6-9-2019")."""
    numeric = NUMERIC_DATE.fullmatch(span.strip())
    iso = ISO_DATE.fullmatch(span.strip())
    if numeric or iso:
        if numeric:
            day, month, year = map(int, numeric.groups())
        else:
            year, month, day = map(int, iso.groups())
        try:
            return date(year, month, day)
        except ValueError:
            return None
    written = WRITTEN_DATE.fullmatch(span.strip())
    month = written and month_number(written[2])
    if month:
        try:
            return date(int(written[3]), month, int(written[1]))
        except ValueError:
            return None
    cleaned = re.sub(r"\b1er\b", "1", span, flags=re.IGNORECASE)
    parsed = dateparser.parse(cleaned, languages=["fr"], settings=DATE_SETTINGS)
    return parsed.date() if parsed else None


MONTH_WORD = re.compile(
    r"janv(?:ier)?|f[ée]vr?(?:ier)?|mars|avr(?:il)?|mai|juin|juil(?:let)?|ao[uû]t|sept?(?:embre)?|oct(?:obre)?|nov(?:embre)?|d[ée]c(?:embre)?"
)


def month_number(word: str) -> int | None:
    """ "avril" -> 4, "FEV" -> 2, "sept" -> 9; None for a word that names no month."""
    word = word.lower()
    for prefix in (word[:4], word[:3]):
        if prefix in MONTHS and MONTH_WORD.fullmatch(word):
            return MONTHS[prefix]
    return None


def parse_number(number: str, fraction: str | None = None, scale: int = 1) -> int | float:
    """ "1 250 000" and "50" -> 1250000.5; with a scale of a million, "1" and "2" -> 1200000."""
    whole = re.sub(r"\D", "", number)
    value = Decimal(f"{whole}.{fraction or 0}") * scale
    return int(value) if value == value.to_integral_value() else float(value)


def words_to_number(words: str) -> int | None:
    """ "CENT MILLE" -> 100000; None when the words do not make one number."""
    cleaned = " ".join(words.replace("-", " ").split()).lower()
    try:
        return text2num(cleaned, "fr")
    except ValueError:
        return None


def parse_count(token: str) -> int | None:
    token = token.strip().lower()
    if token.isdigit():
        return int(token)
    if token in ("un", "une"):
        return 1
    return words_to_number(token)


def iso_duration(count: int, unit_letter: str) -> str:
    return f"P{count}{unit_letter}"
