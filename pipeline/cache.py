"""A cache of outcomes keyed on each file's content and on the code and patterns that read it,
so that a re-run on an unchanged folder reads nothing again."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from pipeline import PATTERNS_DIR
from pipeline.dataset.tables import SCHEMA_DIR
from pipeline.dataset.write import write_atomic

PACKAGE = Path(__file__).resolve().parent


@cache
def code_version() -> str:
    """Changes whenever a line of the pipeline, a schema or a pattern file changes."""
    digest = hashlib.sha256()
    for path in sorted([*PACKAGE.rglob("*"), *PATTERNS_DIR.glob("*"), *SCHEMA_DIR.rglob("*")]):
        if path.suffix in (".py", ".json", ".html", ".yaml", ".csv") and "__pycache__" not in path.parts:
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def signature(path: Path) -> list[int]:
    """What changes when a file is written: its size and modification time."""
    status = path.stat()
    return [status.st_size, status.st_mtime_ns]


class Cache:
    def __init__(self, folder: Path, settings: str):
        self.folder = folder
        # What a file's content is hashed with: the code, and the options that change a result.
        self.prefix = f"{code_version()}|{settings}|".encode()
        # Content keys of files already hashed, by path, while their size and time are unchanged.
        self.known_path = folder / f"known-{hashlib.sha256(self.prefix).hexdigest()[:16]}.json"
        self.known = self.read(self.known_path) or {}

    def key(self, path: Path) -> str:
        seen = signature(path)
        known = self.known.get(str(path))
        if known and known[:2] == seen:
            return known[2]
        digest = hashlib.sha256(self.prefix)
        with path.open("rb") as stream:
            digest.update(stream.read())
        self.known[str(path)] = [*seen, digest.hexdigest()]
        return digest.hexdigest()

    def remember_keys(self, paths: list[Path]) -> None:
        """Keep the keys of this run's files (and of those only) for the next run."""
        kept = {str(path): self.known[str(path)] for path in paths if str(path) in self.known}
        write_atomic(self.known_path, json.dumps(kept))

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
        for name, seen in manifest["outputs"].items():
            path = outdir / name
            if not path.is_file() or signature(path) != seen:
                return None
        return manifest["report"]

    def remember_run(self, run_key: str, outputs: list[Path], report: dict) -> None:
        manifest = {
            "key": run_key,
            "outputs": {path.name: signature(path) for path in outputs},
            "report": report,
        }
        write_atomic(self.folder / "run.json", json.dumps(manifest, ensure_ascii=False))

    @staticmethod
    def read(path: Path) -> dict | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
