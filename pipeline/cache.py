"""A cache of outcomes keyed on each file's content and on the code and patterns that read it,
so that a re-run on an unchanged folder reads nothing again. It lives in a folder (OUTPUT/.cache
by default, or one shared by the machines of a cluster) or behind an fsspec URL (s3://…)."""

from __future__ import annotations

import hashlib
import json
import uuid
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


class Folder:
    """Entries as files of a folder, each written whole (a temporary file, then a rename), so
    that two processes writing the same entry at once leave one of them, never a mix."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def read(self, name: str) -> bytes | None:
        try:
            return (self.folder / name).read_bytes()
        except OSError:
            return None

    def write(self, name: str, data: bytes) -> None:
        write_atomic(self.folder / name, data)


class Remote:
    """Entries behind an fsspec URL; each written under a name of its own, then moved."""

    def __init__(self, url: str):
        import fsspec

        self.fs, self.root = fsspec.core.url_to_fs(url)

    def read(self, name: str) -> bytes | None:
        try:
            return self.fs.cat_file(f"{self.root}/{name}")
        except (OSError, FileNotFoundError):
            return None

    def write(self, name: str, data: bytes) -> None:
        target = f"{self.root}/{name}"
        temporary = f"{target}.{uuid.uuid4().hex}.tmp"
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(temporary, data)
        self.fs.mv(temporary, target)


def entry(key: str) -> str:
    """Where the outcome of a file with this content key is kept."""
    return f"{key[:2]}/{key}.json"


def store(location: str | Path) -> Folder | Remote:
    text = str(location)
    if "://" in text and not text.startswith("file://"):
        return Remote(text)
    return Folder(text.removeprefix("file://"))


class Cache:
    def __init__(self, location: str | Path, settings: str):
        self.location = str(location)
        self.store = store(location)
        # What a file's content is hashed with: the code, and the options that change a result.
        self.prefix = f"{code_version()}|{settings}|".encode()
        # Content keys of files already hashed, by path, while their size and time are unchanged.
        self.known_name = f"known-{hashlib.sha256(self.prefix).hexdigest()[:16]}.json"
        self.known = self.read(self.known_name) or {}

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
        self.write(self.known_name, kept)

    def get(self, key: str) -> dict | None:
        return self.read(entry(key))

    def put(self, key: str, value: dict) -> None:
        self.write(entry(key), value)

    def run_key(self, keys: list[tuple[str, str]], extra: bytes = b"") -> str:
        """One key for a whole run: its files, in order, with their content keys."""
        digest = hashlib.sha256(extra)
        for name, key in keys:
            digest.update(f"{name}\0{key}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def last_run(self, run_key: str, outdir: Path) -> dict | None:
        """What the last run reported, when it read the same files and left outputs that are
        still untouched; None when the run has to be done again."""
        manifest = self.read("run.json")
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
        self.write("run.json", manifest)

    def read(self, name: str) -> dict | None:
        data = self.store.read(name)
        try:
            return json.loads(data) if data is not None else None
        except ValueError:
            return None

    def write(self, name: str, value: object) -> None:
        # In ASCII: a path whose name is not UTF-8 is kept escaped, and read back as it was.
        self.store.write(name, json.dumps(value).encode("ascii"))
