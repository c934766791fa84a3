"""conventions-extract: turn conventions de délégation de gestion into an open dataset."""

__version__ = "0.1.0"

from pathlib import Path

# The rules, kept as data beside the code.
PATTERNS_DIR = Path(__file__).resolve().parent.parent / "patterns"
