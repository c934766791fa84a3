"""A cache of outcomes keyed on each file's content and on the code and patterns that read it,
so that a re-run on an unchanged folder reads nothing again."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from pipeline.write import write_atomic

PACKAGE = Path(__file__).resolve().parent


@cache
def code_version() -> str:
    """Changes whenever a line of the pipeline or a schema changes."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class Cache:
    def __init__(self, folder: Path, settings: str):
        self.folder = folder
        self.settings = settings  # patterns version and options that change a result

    def key(self, path: Path) -> str:
        digest = hashlib.sha256(f"{code_version()}|{self.settings}|".encode())
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def get(self, key: str) -> dict | None:
        entry = self.folder / key[:2] / f"{key}.json"
        try:
            return json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: dict) -> None:
        write_atomic(self.folder / key[:2] / f"{key}.json", json.dumps(value, ensure_ascii=False))
