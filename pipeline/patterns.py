"""Load the rules kept as data in patterns/: one YAML file per concern."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

import yaml

PATTERNS_DIR = Path(__file__).resolve().parent.parent / "patterns"


class Patterns(dict):
    """The loaded pattern files, keyed by file stem ("chorus", "amounts", ...)."""

    version: str
    cached: dict  # values derived from the patterns once per process

    def regex(self, concern: str, *keys: str) -> re.Pattern:
        return compile_pattern(self.source(concern, *keys))

    def folded(self, concern: str, *keys: str) -> re.Pattern:
        """The same rule for lower-cased text (Document.lower): three times faster than
        matching without case, for rules whose matched text is never kept as written."""
        return compile_folded(self.source(concern, *keys))

    def source(self, concern: str, *keys: str) -> str:
        key = (concern, *keys)
        if key not in self.cached:
            node = self[concern]
            for part in keys:
                node = node[part]
            self.cached[key] = expand(node, self.get("fragments", {}))
        return self.cached[key]

    def finditer(self, doc, concern: str, *keys, start: int = 0, end: int | None = None):
        """Matches in the document, on its lower-cased text unless the rule needs case: read
        what a match found from doc.plain at its offsets, never from the match itself."""
        end = len(doc.plain) if end is None else end
        if "(?-i:" in self.source(concern, *keys):
            return self.regex(concern, *keys).finditer(doc.plain, start, end)
        return self.folded(concern, *keys).finditer(doc.lower, start, end)


def expand(source: str, fragments: dict) -> str:
    """Replace each <<name>> by the fragment of that name."""
    return re.sub(r"<<(\w+)>>", lambda m: fragments[m[1]], source)


@cache
def compile_pattern(source: str) -> re.Pattern:
    return re.compile(source, re.IGNORECASE | re.MULTILINE)


@cache
def compile_folded(source: str) -> re.Pattern:
    if "(?-i:" in source:
        raise ValueError(f"a case-sensitive rule cannot run on lower-cased text: {source[:60]}")
    kept = r"\\.|\(\?P<\w+>|\(\?P=\w+\)"
    lowered = re.sub(rf"{kept}|.", lambda m: m[0] if len(m[0]) > 1 else m[0].lower(), source, flags=re.DOTALL)
    return re.compile(lowered, re.MULTILINE)


def read_list(text: str) -> list[str]:
    """A one-column CSV referential: comment lines (#) and the header line are skipped."""
    rows = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return rows[1:]


def load_patterns(directory: Path = PATTERNS_DIR) -> Patterns:
    patterns = Patterns()
    patterns.cached = {}
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        raw = path.read_bytes()
        digest.update(raw)
        patterns[path.stem] = yaml.safe_load(raw)
    for path in sorted(directory.glob("*.csv")):
        raw = path.read_bytes()
        digest.update(raw)
        patterns[path.stem] = read_list(raw.decode("utf-8"))
    patterns.version = digest.hexdigest()[:12]
    return patterns
