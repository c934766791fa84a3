"""The one reading of every document, whichever reader made it: page furniture dropped, words
hyphenated at a line's end made whole, a paragraph's broken lines joined, letters spaced out
joined, damaged Chorus labels mended; each character of the reading mapped to its source offset."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import regex
import yaml

from pipeline import PATTERNS_DIR
from pipeline.patterns import compile_pattern

# A word as OCR leaves it: letters only, accents and damaged accents included.
WORD = re.compile(r"[^\W\d_]+")
# The gap between two words of one label.
LABEL_GAP = re.compile(r"[ \t\n]+")
ACCENTS = str.maketrans("àâäéèêëîïôöùûüÿçœæ", "aaaeeeeiioouuuycoa")


@dataclass(frozen=True, slots=True)
class Edit:
    start: int
    end: int
    text: str  # what replaces the text between start and end


@dataclass(slots=True)
class Reading:
    text: str
    origin: list[int]  # for each character of text (and its end), its offset in the source
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Line:
    start: int
    end: int  # before its newline
    text: str

    @property
    def blank(self) -> bool:
        return not self.text.strip()


@cache
def rules() -> dict:
    """patterns/normalise.yaml, read once per process."""
    return yaml.safe_load((PATTERNS_DIR / "normalise.yaml").read_bytes())


def normalise(text: str, page_starts: list[int] | None = None, settings: dict | None = None) -> Reading:
    """The reading of a source text; `page_starts` are the offsets where a PDF's pages begin."""
    settings = settings or rules()
    reading = Reading(text, list(range(len(text) + 1)))
    steps = [
        lambda t: furniture_edits(t, page_starts or [], settings),
        lambda t: hyphen_edits(t, settings),
        lambda t: join_edits(t, settings),
        lambda t: spaced_edits(t, settings),
        lambda t: label_edits(t, settings, reading.warnings),
    ]
    for step in steps:
        edits = step(reading.text)
        if edits:
            reading.text, origin = applied(reading.text, edits)
            reading.origin = [reading.origin[i] for i in origin]
    return reading


def applied(text: str, edits: list[Edit]) -> tuple[str, list[int]]:
    """The text with its edits made, and for each character of it (and its end) its offset in
    the text before: a replacement's characters fall on the characters they replace, in order."""
    parts: list[str] = []
    origin: list[int] = []
    position = 0
    for edit in sorted(edits, key=lambda e: e.start):
        if edit.start < position:
            continue
        parts += [text[position : edit.start], edit.text]
        origin += range(position, edit.start)
        origin += [edit.start + min(k, max(edit.end - edit.start - 1, 0)) for k in range(len(edit.text))]
        position = edit.end
    parts.append(text[position:])
    origin += range(position, len(text) + 1)
    return "".join(parts), origin


def lines_of(text: str) -> list[Line]:
    lines, start = [], 0
    for part in text.split("\n"):
        lines.append(Line(start, start + len(part), part))
        start += len(part) + 1
    return lines


# --- Page furniture ---------------------------------------------------------------------------


def furniture_edits(text: str, page_starts: list[int], settings: dict) -> list[Edit]:
    """Furniture lines dropped with the blank lines around them; a sentence that ran over them
    runs on, else a paragraph break stays where blank lines were. Page counters inside a line
    dropped alone."""
    lines = lines_of(text)
    dropped = furniture_lines(text, lines, page_starts, settings)
    edits = []
    index = 0
    while index < len(lines):
        if index not in dropped:
            index += 1
            continue
        first = index
        while first > 0 and lines[first - 1].blank:
            first -= 1
        last = index
        while last + 1 < len(lines) and (last + 1 in dropped or lines[last + 1].blank):
            last += 1
        end = lines[last + 1].start if last + 1 < len(lines) else len(text)
        edits.append(Edit(lines[first].start, end, break_between(lines, first, last, settings)))
        index = last + 1
    token = compile_pattern(settings["page_counter_token"])
    edits += [Edit(*m.span(), "") for m in token.finditer(text)]
    return edits


def break_between(lines: list[Line], first: int, last: int, settings: dict) -> str:
    """What stands in for dropped lines: nothing (the lines before and after follow on, as they
    did when one sentence ran over them) or a blank line where there was one."""
    if first == 0 or last + 1 >= len(lines):
        return ""
    spaced = any(line.blank for line in lines[first : last + 1])
    return "\n" if spaced and not runs_on(lines[first - 1].text, lines[last + 1].text, settings) else ""


def furniture_lines(text: str, lines: list[Line], page_starts: list[int], settings: dict) -> set[int]:
    """The indexes of the lines that are no part of the act."""
    starts = {line.start: i for i, line in enumerate(lines)}
    menus = compile_pattern(settings["furniture_line"])
    dropped = {starts[m.start()] for m in menus.finditer("\n" + text)}
    counter = compile_pattern(settings["page_counter"])
    counters = {i for i, line in enumerate(lines) if counter.match(line.text)}
    dropped |= counters
    edges = edge_lines(lines, counters, page_starts, settings["running_reach"])
    header = compile_pattern(settings["running_header"])
    headers = [i for i, line in enumerate(lines) if header.match(line.text)]
    dropped |= {i for n, i in enumerate(headers) if n > 0 or i in edges}
    return dropped | repeated_lines(lines, edges, settings)


def edge_lines(lines: list[Line], counters: set[int], page_starts: list[int], reach: int) -> set[int]:
    """The lines within `reach` lines of text of a page's edge: a page counter, or a page break
    (the text's own start is no page break: the act's heading is there)."""
    breaks = {i for i, line in enumerate(lines) if line.start in set(page_starts) and line.start > 0}
    edges: set[int] = set()
    for mark in counters:
        edges |= near_lines(lines, mark, -1, reach) | near_lines(lines, mark, 1, reach)
    for mark in breaks:
        edges |= near_lines(lines, mark, -1, reach) | near_lines(lines, mark - 1, 1, reach)
    return edges


def near_lines(lines: list[Line], mark: int, step: int, reach: int) -> set[int]:
    found: set[int] = set()
    index = mark + step
    while 0 <= index < len(lines) and len(found) < reach:
        if not lines[index].blank:
            found.add(index)
        index += step
    return found


def repeated_lines(lines: list[Line], edges: set[int], settings: dict) -> set[int]:
    """Short lines beside a page's edge that come back beside another, digits aside: a running
    header or footer. Lines that shape the act ("Et", "Le délégant") are never such."""
    kept = compile_pattern(settings["kept_line"])
    keys: dict[str, list[int]] = {}
    for index in edges:
        line = lines[index].text
        if len(line.strip()) <= settings["running_max_chars"] and not kept.match(line):
            keys.setdefault(re.sub(r"\d+", "#", " ".join(line.lower().split())), []).append(index)
    return {index for found in keys.values() if len(found) > 1 for index in found}


# --- Hyphens at a line's end ------------------------------------------------------------------


def hyphen_edits(text: str, settings: dict) -> list[Edit]:
    """A word split by a hyphen at a line's end made whole; a compound keeps its hyphen."""
    lower = text.lower()
    columns = compile_pattern(settings["column_gap"])
    edits = []
    for match in re.finditer(r"([^\W\d_]+)-[ \t]*\n[ \t]*([^\W\d_]+)", text):
        before, after = match[1], match[2]
        line_start, line_end = text.rfind("\n", 0, match.start()) + 1, text.find("\n", match.end())
        if columns.search(text, line_start, len(text) if line_end < 0 else line_end):
            continue
        hyphen = match.start() + len(before)
        keep = compound(before, after, lower, settings)
        edits.append(Edit(hyphen + (1 if keep else 0), match.start(2), ""))
    return edits


def compound(before: str, after: str, lower: str, settings: dict) -> bool:
    """Whether the two parts are a compound's: the text writes them so elsewhere, or the second
    starts with a capital (a name: "Île-de-France"), or the first is a compound's first word."""
    whole, joined = f"{before}-{after}".lower(), f"{before}{after}".lower()
    if re.search(rf"(?<!\w){re.escape(whole)}(?!\w)", lower):
        return True
    if re.search(rf"(?<!\w){re.escape(joined)}(?!\w)", lower):
        return False
    if after[0].isupper() and not before.isupper():
        return True
    return before.lower() in settings["compound_starts"] or after.lower() in settings["compound_ends"]


# --- Lines of one paragraph -------------------------------------------------------------------


def join_edits(text: str, settings: dict) -> list[Edit]:
    """Each line broken in mid-sentence joined to the next by one space."""
    lines = lines_of(text)
    width = wrap_width(lines, settings)
    return [
        Edit(
            line.start + len(line.text.rstrip()),
            after.start + len(after.text) - len(after.text.lstrip()),
            " ",
        )
        for line, after in zip(lines, lines[1:], strict=False)
        if not line.blank and not after.blank and joined(line.text, after.text, width, settings)
    ]


def wrap_width(lines: list[Line], settings: dict) -> int | None:
    """The width a text was wrapped at, when many of its lines end close to it (most lines'
    length but the longest tenth); None for a text whose paragraphs are each one line."""
    lengths = sorted(len(line.text.rstrip()) for line in lines if not line.blank)
    if len(lengths) < settings["wrap_lines"]:
        return None
    width = lengths[int(0.9 * (len(lengths) - 1))]
    full = sum(1 for n in lengths if settings["wrap_share"] * width <= n)
    return width if full >= settings["wrap_lines"] else None


def joined(line: str, after: str, width: int | None, settings: dict) -> bool:
    columns = compile_pattern(settings["column_gap"])
    kept = compile_pattern(settings["kept_line"])
    if columns.search(line) or columns.search(after) or kept.match(line) or kept.match(after):
        return False
    if compile_pattern(settings["list_item"]).match(after):
        return False
    return runs_on(line, after, settings) or (width is not None and wrapped(line, after, width, settings))


def wrapped(line: str, after: str, width: int, settings: dict) -> bool:
    """The line ends on a word and was broken because the next line's first word would not
    have fitted on it."""
    first_word = after.split(maxsplit=1)[0]
    fits = len(line.rstrip()) + 1 + len(first_word) <= width
    return not fits and bool(compile_pattern(settings["after_word"]).search(line))


def runs_on(line: str, after: str, settings: dict) -> bool:
    """The sentence of `line` goes on in `after`: it ends on a word that cannot end a phrase, or
    on a word and the next line starts in lower case."""
    if compile_pattern(settings["open_end"]).search(line):
        return True
    word_end = compile_pattern(settings["after_word"]).search(line) or line.rstrip().endswith("-")
    return bool(word_end) and bool(compile_pattern(settings["continued_start"]).match(after))


# --- Letters spaced out -----------------------------------------------------------------------


def spaced_edits(text: str, settings: dict) -> list[Edit]:
    edits = []
    for match in compile_pattern(settings["spaced_letters"]).finditer(text):
        edits += [Edit(match.start() + i, match.start() + i + 1, "") for i in range(1, len(match[0]), 2)]
    return edits


# --- Damaged labels ---------------------------------------------------------------------------


def label_edits(text: str, settings: dict, warnings: list[str]) -> list[Edit]:
    """Phrases read as a Chorus label they nearly spell, each told in a warning."""
    words = list(WORD.finditer(text))
    known = {w for label in settings["labels"] for w in label} | set(settings["label_known"])
    known |= {w.translate(ACCENTS) for w in known}
    then = compile_pattern(settings["label_then"])
    edits: list[Edit] = []
    index = 0
    while index < len(words):
        found = None
        for label in settings["labels"]:
            found = damaged(text, words, index, label, known, settings)
            if found and (len(label) > 1 or then.match(text, words[index].end())):
                break
            found = None
        if found is None:
            index += 1
            continue
        start, end = words[index].start(), words[index + len(found) - 1].end()
        fixes = [
            Edit(*w.span(), right) for w, right in zip(words[index:], found, strict=False) if w[0] != right
        ]
        edits += fixes
        mended, _ = applied(text[:end], fixes)
        source = " ".join(text[start:end].split())
        warnings.append(f"libellé abîmé lu comme « {mended[start:]} » : le texte porte « {source} »")
        index += len(found)
    return edits


def damaged(
    text: str, words: list, index: int, label: list[str], known: set[str], settings: dict
) -> list[str] | None:
    """The label's words in the case of the text's, when the words from `index` nearly spell it
    and one at least is damaged; else None."""
    if index + len(label) > len(words):
        return None
    found, damage = [], False
    for offset, right in enumerate(label):
        word = words[index + offset]
        if offset and not LABEL_GAP.fullmatch(text, words[index + offset - 1].end(), word.start()):
            return None
        written = word[0].lower()
        if written == right or written == right.translate(ACCENTS):
            found.append(word[0])
            continue
        if written in known or not near(written, right, settings["label_errors"]):
            return None
        found.append(same_case(right, word[0]))
        damage = True
    return found if damage else None


def near(written: str, right: str, limits: list[dict]) -> bool:
    errors = max((limit["errors"] for limit in limits if len(right) >= limit["words"]), default=0)
    if not errors or abs(len(written) - len(right)) > errors:
        return False
    return regex.fullmatch(f"(?:{regex.escape(right)}){{e<={errors}}}", written) is not None


def same_case(word: str, model: str) -> str:
    if model.isupper():
        return word.upper()
    return word[0].upper() + word[1:] if model[0].isupper() else word
