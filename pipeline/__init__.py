"""conventions-extract: turn conventions de délégation de gestion into an open dataset."""

__version__ = "0.1.0"
