"""Extractors: pure functions from a document and its patterns to candidate values."""
