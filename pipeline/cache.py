"""A cache of outcomes keyed on each file's content and on the code and patterns that read it,
so that a re-run on an unchanged folder reads nothing again."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from pipeline import PATTERNS_DIR
from pipeline.write import write_atomic

PACKAGE = Path(__file__).resolve().parent


@cache
def code_version() -> str:
    """Changes whenever a line of the pipeline, a schema or a pattern file changes."""
    digest = hashlib.sha256()
    for path in sorted([*PACKAGE.rglob("*"), *PATTERNS_DIR.glob("*")]):
        if path.suffix in (".py", ".json", ".html", ".yaml", ".csv") and "__pycache__" not in path.parts:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def file_digest(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


class Cache:
    def __init__(self, folder: Path, settings: str):
        self.folder = folder
        self.settings = settings  # the options that change a result

    def key(self, path: Path) -> str:
        digest = hashlib.sha256(f"{code_version()}|{self.settings}|".encode())
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def get(self, key: str) -> dict | None:
        return self.read(self.folder / key[:2] / f"{key}.json")

    def put(self, key: str, value: dict) -> None:
        write_atomic(self.folder / key[:2] / f"{key}.json", json.dumps(value, ensure_ascii=False))

    def run_key(self, keys: list[tuple[str, str]], extra: bytes = b"") -> str:
        """One key for a whole run: its files, in order, with their content keys."""
        digest = hashlib.sha256(extra)
        for name, key in keys:
            digest.update(f"{name}\0{key}\n".encode())
        return digest.hexdigest()

    def last_run(self, run_key: str, outdir: Path) -> dict | None:
        """What the last run reported, when it read the same files and left outputs that are
        still untouched; None when the run has to be done again."""
        manifest = self.read(self.folder / "run.json")
        if not manifest or manifest["key"] != run_key:
            return None
        for name, digest in manifest["outputs"].items():
            path = outdir / name
            if not path.is_file() or file_digest(path) != digest:
                return None
        return manifest["report"]

    def remember_run(self, run_key: str, outputs: list[Path], report: dict) -> None:
        manifest = {
            "key": run_key,
            "outputs": {path.name: file_digest(path) for path in outputs},
            "report": report,
        }
        write_atomic(self.folder / "run.json", json.dumps(manifest, ensure_ascii=False))

    @staticmethod
    def read(path: Path) -> dict | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
