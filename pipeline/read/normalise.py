"""The one reading of every document, whichever reader made it: page furniture dropped, words
hyphenated at a line's end made whole, a paragraph's broken lines joined, letters spaced out
joined, damaged Chorus labels mended; each character of the reading mapped to its source offset."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from operator import itemgetter

import regex
import yaml

from pipeline import PATTERNS_DIR
from pipeline.model import Warning, warning
from pipeline.patterns import compile_pattern

# PDFium's mark for a hyphen that ends a line, then the space a PDF reader joined the next line with.
PDF_HYPHEN = re.compile("\x02 ?")
# A word as OCR leaves it: letters only, accents and damaged accents included.
WORD = re.compile(r"[^\W\d_]+")
# A word split by a hyphen at a line's end: it starts where no letter comes before it.
SPLIT_WORD = re.compile(r"(?<![^\W\d_])([^\W\d_]+)-[ \t]*\n[ \t]*([^\W\d_]+)")
LINE_END_HYPHEN = re.compile(r"-[ \t]*\n")
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
    warnings: list[Warning] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Line:
    start: int
    text: str  # without its newline

    @property
    def blank(self) -> bool:
        return not self.text.strip()


@cache
def rules() -> dict:
    """patterns/normalise.yaml, read once per process."""
    return yaml.safe_load((PATTERNS_DIR / "normalise.yaml").read_bytes())


def printed_hyphens(text: str) -> str:
    """A PDF's text with its line-end hyphens as printed, a hyphen and a line break, offsets kept:
    PDFium reads them as a control mark, which would be lost as a space."""
    return PDF_HYPHEN.sub(lambda m: "-\n"[: len(m[0])], text)


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
            reading.origin = list(map(reading.origin.__getitem__, origin))
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
        lines.append(Line(start, part))
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
    did when one sentence or one table ran over them) or a blank line where there was one."""
    if first == 0 or last + 1 >= len(lines):
        return ""
    before, after = lines[first - 1].text, lines[last + 1].text
    columns = compile_pattern(settings["column_gap"])
    if runs_on(before, after, settings) or (columns.search(before) and columns.search(after)):
        return ""
    return "\n" if any(line.blank for line in lines[first : last + 1]) else ""


def furniture_lines(text: str, lines: list[Line], page_starts: list[int], settings: dict) -> set[int]:
    """The indexes of the lines that are no part of the act."""
    starts = {line.start: i for i, line in enumerate(lines)}
    menus = compile_pattern(settings["furniture_line"])
    dropped = {starts[m.start()] for m in menus.finditer("\n" + text)}
    counter = compile_pattern(settings["page_counter"])
    counters = {i for i, line in enumerate(lines) if counter.match(line.text)}
    dropped |= counters
    # A PDF's page break: the first line of each page but the first.
    breaks = {starts[offset] for offset in page_starts if offset > 0 and offset in starts}
    edges = edge_lines(lines, counters, breaks, settings["running_reach"])
    header = compile_pattern(settings["running_header"])
    headers = [i for i, line in enumerate(lines) if header.match(line.text)]
    dropped |= {i for n, i in enumerate(headers) if n > 0 or i in edges}
    # The blank line a page break leaves goes like furniture: a sentence or a table it cut runs on.
    dropped |= {i - 1 for i in breaks if lines[i - 1].blank}
    return dropped | repeated_lines(lines, edges, settings)


def edge_lines(lines: list[Line], counters: set[int], breaks: set[int], reach: int) -> set[int]:
    """The lines within `reach` lines of text of a page's edge: a page counter, or a page break
    (the text's own start is no page break: the act's heading is there)."""
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
    """Short lines beside a page's edge that the text holds elsewhere too, word for word: a
    running header or footer (its first, at the text's top, is the heading and stays). Lines
    that shape the act ("Et", "Le délégant"), table rows and list items are never such."""
    rules_out = [compile_pattern(settings[key]) for key in ("kept_line", "column_gap", "line_start")]
    counts = Counter(" ".join(line.text.lower().split()) for line in lines)
    return {
        index
        for index in edges
        if counts[" ".join(lines[index].text.lower().split())] > 1
        and len(lines[index].text.strip()) <= settings["running_max_chars"]
        and WORD.search(lines[index].text)
        and not any(rule.search(lines[index].text) for rule in rules_out)
    }


# --- Hyphens at a line's end ------------------------------------------------------------------


def hyphen_edits(text: str, settings: dict) -> list[Edit]:
    """A word split by a hyphen at a line's end made whole; a compound keeps its hyphen."""
    if not LINE_END_HYPHEN.search(text):
        return []
    matches = list(SPLIT_WORD.finditer(text))
    if not matches:
        return []
    written = words_written(text)
    columns = compile_pattern(settings["column_gap"])
    edits = []
    for match in matches:
        line_start, line_end = text.rfind("\n", 0, match.start()) + 1, text.find("\n", match.end())
        if columns.search(text, line_start, len(text) if line_end < 0 else line_end):
            continue
        hyphen = match.start() + len(match[1])
        keep = compound(match[1], match[2], written, settings)
        edits.append(Edit(hyphen + (1 if keep else 0), match.start(2), ""))
    return edits


def words_written(text: str) -> set[str]:
    """The text's words in lower case, and each pair of a compound's parts ("état-major")."""
    found = set()
    for word in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", text.lower()):
        parts = word.split("-")
        found.update(parts)
        found.update(f"{a}-{b}" for a, b in zip(parts, parts[1:], strict=False))
    return found


def compound(before: str, after: str, written: set[str], settings: dict) -> bool:
    """Whether the two parts are a compound's: the text writes them so elsewhere, or the second
    starts with a capital (a name: "Île-de-France"), or the first is a compound's first word."""
    if f"{before}-{after}".lower() in written:
        return True
    if f"{before}{after}".lower() in written:
        return False
    if after[0].isupper() and not before.isupper():
        return True
    return before.lower() in settings["compound_starts"] or after.lower() in settings["compound_ends"]


# --- Lines of one paragraph -------------------------------------------------------------------


def join_edits(text: str, settings: dict) -> list[Edit]:
    """Each line broken in mid-sentence joined to the next by one space."""
    lines = lines_of(text)
    width = wrap_width(lines, settings)
    pairs = [
        (index, line, after)
        for index, (line, after) in enumerate(zip(lines, lines[1:], strict=False))
        if not line.blank and not after.blank
    ]
    # A table's row or a line that shapes the act joins neither line beside it.
    columns = compile_pattern(settings["column_gap"])
    kept = compile_pattern(settings["kept_line"])
    paired = {i for index, _, _ in pairs for i in (index, index + 1)}
    apart = {i for i in paired if columns.search(lines[i].text) or kept.match(lines[i].text)}
    return [
        Edit(
            line.start + len(line.text.rstrip()),
            after.start + len(after.text) - len(after.text.lstrip()),
            " ",
        )
        for index, line, after in pairs
        if index not in apart and index + 1 not in apart and joined(line.text, after.text, width, settings)
    ]


def wrap_width(lines: list[Line], settings: dict) -> int | None:
    """The width a text was wrapped at, when many of its lines end close to it (most lines'
    length but the longest tenth); None for a text whose paragraphs are each one line."""
    lengths = sorted(len(line.text.rstrip()) for line in lines if not line.blank)
    if len(lengths) < settings["wrap_lines"]:
        return None
    width = lengths[int(0.9 * (len(lengths) - 1))]
    full = sum(1 for n in lengths if settings["wrap_share"] * width <= n)
    return width if full >= settings["wrap_lines"] and width >= settings["wrap_min_width"] else None


def joined(line: str, after: str, width: int | None, settings: dict) -> bool:
    """Whether two lines, neither of them a table's row nor one that shapes the act, are one
    sentence's."""
    if compile_pattern(settings["parties_line"]).match(after):
        return False
    if compile_pattern(settings["line_start"]).match(after):
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


def label_edits(text: str, settings: dict, warnings: list[Warning]) -> list[Edit]:
    """Phrases read as a Chorus label they nearly spell, each told in a warning."""
    words = list(WORD.finditer(text))
    written = list(map(itemgetter(0), words))
    lowered = {word: word.lower() for word in set(written)}
    readings = label_readings(set(lowered.values()), settings)
    # Only a phrase that holds a damaged word can be read as a label: it starts at most a
    # label's length of words before one.
    damaged = {
        word
        for word, low in lowered.items()
        if any(low not in (right, right.translate(ACCENTS)) for right in readings[low])
    }
    longest = max(len(label) for label in settings["labels"])
    hits = [index for index, word in enumerate(written) if word in damaged]
    starts = sorted({max(index - back, 0) for index in hits for back in range(longest)})
    then = compile_pattern(settings["label_then"])
    edits: list[Edit] = []
    resume = 0
    for index in starts:
        if index < resume:
            continue
        found = readings[words[index][0].lower()] and next(
            (
                label
                for label in settings["labels"]
                if label[0] in readings[words[index][0].lower()]
                and spelled(text, words[index : index + len(label)], label, readings)
                and (len(label) > 1 or then.match(text, words[index].end()))
            ),
            None,
        )
        if not found:
            continue
        phrase = words[index : index + len(found)]
        fixes = [Edit(*w.span(), same_case(right, w[0])) for w, right in zip(phrase, found, strict=True)]
        fixes = [fix for fix, w in zip(fixes, phrase, strict=True) if fix.text.lower() != w[0].lower()]
        start, end = phrase[0].start(), phrase[-1].end()
        mended, _ = applied(text[:end], fixes)
        source = " ".join(text[start:end].split())
        warnings.append(warning("libelle_abime", read=mended[start:], source=source))
        edits += fixes
        resume = index + len(found)
    return edits


def label_readings(written: set[str], settings: dict) -> dict[str, frozenset[str]]:
    """For each word of the text (lower case), the label words it reads as: itself, its plain
    letters (no accents), or a label word it nearly spells when it is no word in its own right."""
    key = (
        tuple(tuple(label) for label in settings["labels"]),
        tuple(settings["label_known"]),
        tuple((limit["words"], limit["errors"]) for limit in settings["label_errors"]),
    )
    reader = word_reader(key)
    return {word: reader(word) for word in written}


@cache
def word_reader(key: tuple) -> Callable[[str], frozenset[str]]:
    """label_readings for one word, worked out once per process and word: texts share most
    words."""
    labels, known_words, limits = key
    vocabulary = {right for label in labels for right in label}
    known = vocabulary | {right.translate(ACCENTS) for right in vocabulary} | set(known_words)

    @lru_cache(maxsize=200_000)
    def readings(word: str) -> frozenset[str]:
        return frozenset(
            right
            for right in vocabulary
            if word in (right, right.translate(ACCENTS)) or (word not in known and near(word, right, limits))
        )

    return readings


def spelled(text: str, phrase: list, label: list[str], readings: dict[str, set[str]]) -> bool:
    """The phrase reads as the label, its words one space or line apart, and one at least is
    damaged (not the label's word, nor its plain letters)."""
    if len(phrase) < len(label):
        return False
    for before, word in zip(phrase, phrase[1:], strict=False):
        if not LABEL_GAP.fullmatch(text, before.end(), word.start()):
            return False
    if not all(right in readings[word[0].lower()] for word, right in zip(phrase, label, strict=True)):
        return False
    return any(
        word[0].lower() not in (right, right.translate(ACCENTS))
        for word, right in zip(phrase, label, strict=True)
    )


def near(written: str, right: str, limits: tuple) -> bool:
    errors = max((errors for letters, errors in limits if len(right) >= letters), default=0)
    if not errors or abs(len(written) - len(right)) > errors:
        return False
    return fuzzy(right, errors).fullmatch(written) is not None


@cache
def fuzzy(word: str, errors: int) -> regex.Pattern:
    return regex.compile(f"(?:{regex.escape(word)}){{e<={errors}}}")


def same_case(word: str, model: str) -> str:
    if model.isupper():
        return word.upper()
    return word[0].upper() + word[1:] if model[0].isupper() else word
