"""Turn spans of text into values: dates, amounts, counts and ISO 8601 durations."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import dateparser
from text_to_num import text2num

DATE_SETTINGS = {"DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first", "STRICT_PARSING": True}


# Day, month, year: "23/11/2020", "6-9-2019", "23/11/20" (a year of two digits is this century's).
NUMERIC_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# The common written form, read without dateparser (ten times faster): "5 avril 2018",
# "1er mars 2021", "20 FEV. 2020"; months by their first letters.
WRITTEN_DATE = re.compile(r"(\d{1,2})(?:er)?\s*([^\W\d_]+)\.?\s+(\d{4})", re.IGNORECASE)
# The first of the month, as printed or as OCR reads it: "1er", "1 er", "ler".
FIRST_DAY = re.compile(r"\b(?:1 ?er|ler)\b", re.IGNORECASE)
# A date in words: "vingt-sept février deux mille vingt-cinq", "premier mars deux mille vingt".
DATE_IN_WORDS = re.compile(
    r"(?P<day>[^\W\d_][\w -]*?)\s+(?P<month>[^\W\d_]+)\s+(?P<year>(?:deux|mil|dix)[\w -]+)"
)
MONTHS = {
    "janv": 1, "févr": 2, "fevr": 2, "fév": 2, "fev": 2, "mars": 3, "avr": 4, "mai": 5, "juin": 6,
    "juil": 7, "août": 8, "aout": 8, "sept": 9, "sep": 9, "oct": 10, "nov": 11, "déc": 12, "dec": 12,
}  # fmt: skip


def parse_date(span: str) -> date | None:
    """Parse a date already cut out of its sentence ("20 FEV. 2020", "23/11/2020", "6-9-2019")."""
    span = FIRST_DAY.sub("1", " ".join(span.split()))
    numeric = NUMERIC_DATE.fullmatch(span.strip())
    iso = ISO_DATE.fullmatch(span.strip())
    if numeric or iso:
        if numeric:
            day, month, year = map(int, numeric.groups())
            year += 2000 if year < 100 else 0
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
    in_words = DATE_IN_WORDS.fullmatch(span.strip().lower())
    if in_words:
        return date_in_words(in_words)
    parsed = dateparser.parse(span, languages=["fr"], settings=DATE_SETTINGS)
    return parsed.date() if parsed else None


def date_in_words(match: re.Match) -> date | None:
    day = 1 if match["day"] == "premier" else words_to_number(match["day"])
    month, year = month_number(match["month"]), words_to_number(match["year"])
    if not (day and month and year):
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


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
