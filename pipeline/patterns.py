"""Load the rules kept as data in patterns/: one YAML file per concern."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import regex
import yaml

from pipeline import PATTERNS_DIR

if TYPE_CHECKING:
    from pipeline.model import Document


# A rule run only near its words finds every match that lies within this many characters of
# one of them: longer than any match of such a rule.
NEAR_REACH = 300


class Patterns(dict):
    """The loaded pattern files, keyed by file stem ("chorus", "amounts", ...)."""

    cached: dict  # values derived from the patterns once per process

    def regex(self, concern: str, *keys: str) -> regex.Pattern:
        key = ("regex", concern, *keys)
        found = self.cached.get(key)
        if found is None:
            found = self.cached[key] = compile_pattern(self.source(concern, *keys))
        return found

    def folded(self, concern: str, *keys: str) -> regex.Pattern:
        """The same rule for lower-cased text (Document.lower): twice as fast as
        matching without case, for rules whose matched text is never kept as written."""
        key = ("folded", concern, *keys)
        found = self.cached.get(key)
        if found is None:
            found = self.cached[key] = compile_folded(self.source(concern, *keys))
        return found

    def source(self, concern: str, *keys: str) -> str:
        key = (concern, *keys)
        if key not in self.cached:
            node = self[concern]
            for part in keys:
                node = node[part]
            self.cached[key] = expand(node, self.get("fragments", {}))
        return self.cached[key]

    def finditer(
        self, doc: Document, concern: str, *keys: str | int, start: int = 0, end: int | None = None
    ) -> Iterator[regex.Match]:
        """Matches in the document, on its lower-cased text unless the rule needs case: read
        what a match found from doc.plain at its offsets, never from the match itself. A rule
        that lists the words every match holds (`near`) is run only around them."""
        end = len(doc.plain) if end is None else end
        words = self.near(concern, *keys)
        if words is None:
            return self.scan(doc, concern, keys, start, end)
        return (
            match
            for low, high in windows(doc.lower, words, start, end)
            for match in self.scan(doc, concern, keys, low, high)
        )

    def near(self, concern: str, *keys: str | int) -> tuple[str, ...] | None:
        """The words of the rule that holds this pattern (the pattern's parent), if it lists
        any; a pattern at a file's top level belongs to no rule."""
        key = ("near", concern, *keys)
        if key not in self.cached:
            rule = self[concern]
            for part in keys[:-1]:
                rule = rule[part]
            words = rule.get("near") if len(keys) > 1 and isinstance(rule, dict) else None
            self.cached[key] = tuple(words) if words else None
        return self.cached[key]

    def scan(self, doc: Document, concern: str, keys: tuple, start: int, end: int) -> Iterator[regex.Match]:
        source = self.source(concern, *keys)
        if "(?-i:" not in source:
            return self.folded(concern, *keys).finditer(doc.lower, start, end)
        # A rule that needs case matches only where its case-blind form does: start there.
        first = compile_folded(source, loose=True).search(doc.lower, start, end)
        if first is None:
            return iter(())
        return self.regex(concern, *keys).finditer(doc.plain, first.start(), end)

    def search(
        self, doc: Document, concern: str, *keys: str | int, start: int = 0, end: int | None = None
    ) -> regex.Match | None:
        """The first match in the document, as finditer finds it."""
        return next(self.finditer(doc, concern, *keys, start=start, end=end), None)


def windows(text: str, words: tuple[str, ...], start: int, end: int) -> list[tuple[int, int]]:
    """The stretches of text within NEAR_REACH characters of one of the words, merged."""
    spots = []
    for word in words:
        position = text.find(word, start, end)
        while position != -1:
            spots.append(position)
            position = text.find(word, position + 1, end)
    stretches: list[tuple[int, int]] = []
    for spot in sorted(spots):
        low, high = max(start, spot - NEAR_REACH), min(end, spot + NEAR_REACH)
        if stretches and low <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], high)
        else:
            stretches.append((low, high))
    return stretches


def expand(source: str, fragments: dict) -> str:
    """Replace each <<name>> by the fragment of that name."""
    return re.sub(r"<<(\w+)>>", lambda m: fragments[m[1]], source)


@cache
def compile_pattern(source: str) -> regex.Pattern:
    return regex.compile(source, regex.IGNORECASE | regex.MULTILINE | regex.VERSION0)


@cache
def compile_folded(source: str, loose: bool = False) -> regex.Pattern:
    """The rule for lower-cased text; a loose one also lowers its case-sensitive parts, so it
    matches wherever the rule does, and more."""
    if loose:
        source = source.replace("(?-i:", "(?:")
    elif "(?-i:" in source:
        raise ValueError(f"a case-sensitive rule cannot run on lower-cased text: {source[:60]}")
    kept = r"\\.|\(\?P<\w+>|\(\?P=\w+\)"
    lowered = re.sub(rf"{kept}|.", lambda m: m[0] if len(m[0]) > 1 else m[0].lower(), source, flags=re.DOTALL)
    return regex.compile(lowered, regex.MULTILINE | regex.VERSION0)


def read_list(text: str) -> list[str]:
    """A one-column CSV referential: comment lines (#) and the header line are skipped."""
    rows = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return rows[1:]


def load_patterns(directory: Path = PATTERNS_DIR) -> Patterns:
    patterns = Patterns()
    patterns.cached = {}
    for path in sorted(directory.glob("*.yaml")):
        patterns[path.stem] = yaml.safe_load(path.read_bytes())
    for path in sorted(directory.glob("*.csv")):
        patterns[path.stem] = read_list(path.read_text(encoding="utf-8"))
    return patterns
