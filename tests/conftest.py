"""Shared fixtures: the patterns and the spaCy model, loaded once for the session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.extract.nlp import load_nlp
from pipeline.extract.record import build_record
from pipeline.model import Document
from pipeline.patterns import load_patterns

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "samples").glob("*.txt"))
GOLD_DIR = Path(__file__).resolve().parent / "gold"
SCORER = Path(__file__).resolve().parent / "tools" / "score.py"


@pytest.fixture(scope="session")
def patterns():
    return load_patterns()


@pytest.fixture(scope="session")
def nlp():
    return load_nlp()


@pytest.fixture(scope="session")
def gold() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in GOLD_DIR.glob("*.json")}


@pytest.fixture(scope="session")
def extract_text(patterns, nlp):
    """The record built from a short text written for a test (no convention check)."""

    def run(text: str) -> dict:
        return build_record(Document("test.txt", text), patterns, nlp)

    return run


def get(record: dict, path: str):
    for key in path.split("."):
        record = record[key]
    return record
