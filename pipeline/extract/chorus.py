"""Chorus budget codes: centre financier (UO), centre de coût, domaine fonctionnel, activité…"""

from __future__ import annotations

import difflib
import re
from collections import Counter

from pipeline.extract.names import clean
from pipeline.model import Candidate, Document, warning
from pipeline.patterns import Patterns

FIELDS = (
    "centre_financier",
    "centre_cout",
    "domaine_fonctionnel",
    "activite",
    "axe_ministeriel",
    "budget_operationnel",
    "programme",
    "programme_libelle",
)


def normalise_uo(value: str) -> str:
    head, *rest = value.strip("-").upper().split("-")
    return "-".join([head.zfill(4), *rest])


PROGRAMME = re.compile(r"(?:programme[ \t]*(?:n[°o][ \t]*)?|^)(\d{3,4})\b", re.IGNORECASE)
ACTION = re.compile(r"(?<!sous-)action[ \t]*(?:n[°o][ \t]*)?(\d{1,2})", re.IGNORECASE)
SUB_ACTION = re.compile(r"sous-action[ \t]*(?:n[°o][ \t]*)?(\d{1,2})", re.IGNORECASE)


def normalise_domain(value: str) -> str:
    """ "0148-03" as printed; "0352, action 1", "214 « … », action 04" and "action 2 du
    programme 150" as the code they name: "0352-01", "0214-04", "0150-02"."""
    if "action" in value.lower():
        programme, action = PROGRAMME.search(value), ACTION.search(value)
        sub = SUB_ACTION.search(value)
        parts = [programme[1].zfill(4), action[1].zfill(2), *([sub[1].zfill(2)] if sub else [])]
        return "-".join(parts)
    return value


FORMATS = {
    "uo": normalise_uo,
    "code": lambda value: "".join(value.split()).upper(),
    "domain": normalise_domain,
    "programme": lambda value: str(int(value)),
    "text": clean,
}


def extract_chorus(doc: Document, patterns: Patterns) -> dict[str, Candidate]:
    """Each code as printed."""
    found = {}
    for name in FIELDS:
        candidate = extract_code(doc, patterns, name)
        if candidate:
            found[name] = candidate
    derive_programme(doc, found, patterns)
    return found


def extract_code(doc: Document, patterns: Patterns, name: str) -> Candidate | None:
    spec = patterns["chorus"][name]
    normalise = FORMATS[spec["format"]]
    candidates = []
    for index, rule in enumerate(spec["rules"]):
        for match in patterns.finditer(doc, "chorus", name, "rules", index, "pattern"):
            start, end = match.span("value")
            value = normalise(doc.plain[start:end])
            candidate = Candidate(
                value, doc.evidence(start, end), rule["confidence"], f"chorus.{name}.{rule['name']}"
            )
            if spec["format"] != "text" and doc.method_at(start) == "ocr":
                candidate = fix_ocr_digits(doc, name, candidate, patterns)
            candidates.append(candidate)
    if not candidates:
        return None
    counts = Counter(c.value for c in candidates)
    if len(counts) > 1 and name != "programme_libelle":
        values = ", ".join(sorted(str(v) for v in counts))
        doc.warnings.append(warning("valeurs_differentes", name, count=len(counts), values=values))
    best = max(
        candidates,
        key=lambda c: (shaped(spec, c.value), c.confidence, counts[c.value], agreement(c.value, counts)),
    )
    if len(counts) > 1:
        best = Candidate(best.value, best.evidence, best.confidence * 0.7, best.rule)
    return best


def shaped(spec: dict, value: object) -> bool:
    """The value has the shape Chorus gives every code of the field (when the field has one)."""
    return "shape" not in spec or bool(re.match(spec["shape"], str(value)))


def agreement(value: object, counts: Counter) -> float:
    """How much the other readings of a code look like this one: of an OCR misreading or two,
    the reading the others resemble most is the printed code."""
    return sum(
        difflib.SequenceMatcher(None, str(value), str(other)).ratio() * count
        for other, count in counts.items()
        if other != value
    )


def fix_ocr_digits(doc: Document, name: str, candidate: Candidate, patterns: Patterns) -> Candidate:
    """A code read by OCR with letters where its shape wants digits, repaired, less trusted,
    and the OCR text quoted in a warning."""
    value = ocr_digits(str(candidate.value), patterns, name)
    if value == candidate.value:
        return candidate
    doc.warnings.append(warning("code_corrige_ocr", name, read=candidate.value, value=value))
    return Candidate(value, candidate.evidence, candidate.confidence * 0.75, candidate.rule + ".ocr_fixed")


def ocr_digits(value: str, patterns: Patterns, name: str) -> str:
    """Letters OCR read in place of digits, put back where the field's shape wants digits:
    "FINFP0O075" -> "FINFP00075", but "DAEPILO075" stays."""
    confusions = patterns["chorus"]["ocr_confusions"]
    if name not in confusions["shapes"]:
        return value
    shape = patterns.regex("chorus", "ocr_confusions", "shapes", name).search(value)
    if not shape:
        return value
    start, end = shape.span("digits")
    digits = "".join(confusions["letters"].get(c, c) for c in value[start:end])
    return value[:start] + digits + value[end:]


def derive_programme(doc: Document, found: dict[str, Candidate], patterns: Patterns) -> None:
    """The programme is the UO code's first four digits: 0203-CITR-ELAB -> 203, and O107-…
    (a letter O printed for a zero) -> 107."""
    uo = found.get("centre_financier")
    digits = uo and ocr_digits(uo.value, patterns, "centre_financier")[:4]
    if not digits or not digits.isdigit():
        return
    derived = str(int(digits))
    stated = found.get("programme")
    if stated and stated.value != derived:
        doc.warnings.append(
            warning("programme_uo_differents", stated=stated.value, uo=uo.value, derived=derived)
        )
    if not stated or stated.value != derived:
        found["programme"] = Candidate(derived, uo.evidence, uo.confidence * 0.95, "chorus.programme.from_uo")
