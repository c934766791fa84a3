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

    def regex(self, concern: str, *keys: str) -> re.Pattern:
        node = self[concern]
        for key in keys:
            node = node[key]
        return compile_pattern(expand(node, self.get("fragments", {})))


def expand(source: str, fragments: dict) -> str:
    """Replace each <<name>> by the fragment of that name."""
    return re.sub(r"<<(\w+)>>", lambda m: fragments[m[1]], source)


@cache
def compile_pattern(source: str) -> re.Pattern:
    return re.compile(source, re.IGNORECASE | re.MULTILINE)


def load_patterns(directory: Path = PATTERNS_DIR) -> Patterns:
    patterns = Patterns()
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.yaml")):
        raw = path.read_bytes()
        digest.update(raw)
        patterns[path.stem] = yaml.safe_load(raw)
    patterns.version = digest.hexdigest()[:12]
    return patterns
