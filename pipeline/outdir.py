"""The output folder: one run at a time, and changed in one step.

A run writes its outputs into a fresh hidden sibling of OUTPUT (`.NAME.building-…`) and, at the
end, swaps the two folders with one `renameat2(RENAME_EXCHANGE)`: a reader opening files in
OUTPUT sees the whole old dataset or the whole new one, and OUTPUT stays a plain folder. Files
the run does not write (the publication state, a review.png…) are carried over as hard links
before the swap, folders (the cache) are moved after it. A filesystem without the exchange gets
two renames instead: for an instant OUTPUT is absent, never mixed. A lock file beside OUTPUT
(`.NAME.lock`, held with flock, so the kernel releases it when a run dies) refuses a second run.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import shutil
import tempfile
from pathlib import Path

RENAME_EXCHANGE = 2
AT_FDCWD = -100
BUILDING, PREVIOUS, SPOOL = "building", "previous", "spool"
# The parts of a large run's review page after the first (review-2.html…).
REVIEW_PART = re.compile(r"review-\d+\.html")


class OutputError(Exception):
    """OUTPUT cannot take a run: the message says why, in one French line."""


class OutputBusy(OutputError):
    pass


class OutputFolder:
    """`with OutputFolder(path) as out:` holds the lock; `out.building()` is where to write;
    `out.commit(written)` swaps it in. Leaving without a commit leaves OUTPUT as it was."""

    def __init__(self, path: Path):
        # A symbolic link stays one: its target is the folder swapped, and its locks sit beside it.
        self.path = Path(os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path))
        self.parent = self.path.parent
        self.lock_path = self.parent / f".{self.path.name}.lock"
        self.lock: int | None = None
        self.build: Path | None = None

    def __enter__(self) -> OutputFolder:
        check_usable(self.path)
        self.lock = take_lock(self.lock_path, self.path)
        recover(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.build and self.build.exists():
            if self.path.is_dir():
                rescue_folders(self.build, self.path)
            shutil.rmtree(self.build, ignore_errors=True)
        if self.lock is not None:
            os.close(self.lock)  # releases the lock

    def has_dataset(self) -> bool:
        return (self.path / "conventions.json").is_file()

    def building(self) -> Path:
        """A fresh folder beside OUTPUT, with OUTPUT's cache moved in for the writing."""
        if self.build is None:
            self.build = Path(tempfile.mkdtemp(dir=self.parent, prefix=f".{self.path.name}.{BUILDING}-"))
            os.chmod(self.build, folder_mode(self.path))
            cache = self.path / ".cache"
            if cache.is_dir():
                os.rename(cache, self.build / ".cache")
        return self.build

    def scratch(self) -> tuple[Path, str]:
        """Where a run keeps its working files (a folder beside OUTPUT) and how they start."""
        return self.parent, f".{self.path.name}.{SPOOL}-"

    def commit(self, written: list[Path]) -> None:
        """Swap the built folder in: every file in it is new; the rest of OUTPUT is kept."""
        build = self.building()
        names = {path.name for path in written} | {".cache"}
        if self.path.exists():
            carry_files(self.path, build, names)
            previous = swap(build, self.path)
            rescue_folders(previous, self.path)
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.rename(build, self.path)
        self.build = None


def check_usable(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise OutputError(f"« {path} » est un fichier, pas un dossier : choisir un dossier de sortie (-o)")
    if os.path.ismount(path):
        raise OutputError(f"« {path} » est un point de montage : choisir un dossier à l'intérieur (-o)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in [path.parent, path] if path.is_dir() else [path.parent]:
            tempfile.TemporaryFile(dir=folder).close()
    except OSError as error:
        where = path if path.is_dir() else path.parent
        raise OutputError(
            f"impossible d'écrire dans « {where} » ({reason(error)}) : "
            "choisir un dossier de sortie accessible en écriture (-o)"
        ) from None


# What an operating system error means, for the officer.
REASONS = {
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.EROFS: "support en lecture seule",
    errno.ENOSPC: "disque plein",
    errno.EDQUOT: "quota disque atteint",
    errno.ENOTDIR: "un élément du chemin est un fichier",
    errno.EEXIST: "un élément du chemin est un fichier",
    errno.EISDIR: "c'est un dossier",
    errno.ENAMETOOLONG: "nom trop long",
    errno.ENOENT: "chemin introuvable",
}


def reason(error: OSError) -> str:
    known = REASONS.get(error.errno)
    if known:
        return known
    return f"erreur système {errno.errorcode.get(error.errno, error.errno)}"


def take_lock(lock_path: Path, folder: Path) -> int:
    handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(handle, 32, 0).decode(errors="replace").strip()
        os.close(handle)
        who = f" (processus {holder})" if holder.isdigit() else ""
        raise OutputBusy(
            f"une extraction ou une publication utilise déjà « {folder} »{who} : "
            "attendre qu'elle se termine ou choisir un autre dossier de sortie (-o)"
        ) from None
    os.ftruncate(handle, 0)
    os.pwrite(handle, str(os.getpid()).encode(), 0)
    return handle


def recover(folder: OutputFolder) -> None:
    """What a run killed before its end left beside OUTPUT: the folders it had moved go back
    (the cache), the rest (its working files too) is removed."""
    mine = re.compile(rf"\.{re.escape(folder.path.name)}\.({BUILDING}|{PREVIOUS})-[^.]+")
    spool = re.compile(rf"\.{re.escape(folder.path.name)}\.{SPOOL}-[^.]+\.tmp")
    for leftover in folder.parent.iterdir():
        if spool.fullmatch(leftover.name) and leftover.is_file():
            leftover.unlink(missing_ok=True)
        elif mine.fullmatch(leftover.name) and leftover.is_dir():
            if folder.path.is_dir():
                rescue_folders(leftover, folder.path)
            shutil.rmtree(leftover, ignore_errors=True)


def carry_files(old: Path, new: Path, written: set[str]) -> None:
    """Hard links to the files of the old folder that this run does not write (a part of the
    review page is one a run writes, or one a smaller run has no more)."""
    for entry in os.scandir(old):
        leftover = entry.name.startswith(".") and entry.name.endswith(".tmp")  # a write cut short
        ours = REVIEW_PART.fullmatch(entry.name)
        if entry.name in written or leftover or ours or entry.is_dir(follow_symlinks=False):
            continue
        if (new / entry.name).exists():
            continue
        try:
            os.link(entry.path, new / entry.name, follow_symlinks=False)
        except OSError:
            shutil.copy2(entry.path, new / entry.name, follow_symlinks=False)


def rescue_folders(old: Path, new: Path) -> None:
    """Move the folders of `old` into `new`; for one both hold, what `new` has is moved into
    the old one first (the cache entries written by this run)."""
    for entry in os.scandir(old):
        if not entry.is_dir(follow_symlinks=False):
            continue
        target = new / entry.name
        if target.is_dir() and not target.is_symlink():
            for inner in os.scandir(target):
                os.replace(inner.path, Path(entry.path) / inner.name)
            target.rmdir()
        if not target.exists():
            os.rename(entry.path, target)


def swap(build: Path, live: Path) -> Path:
    """Put `build` in the place of `live` in one step; returns where the old folder now is."""
    previous = build.with_name(build.name.replace(BUILDING, PREVIOUS, 1))
    if exchange(build, live):
        os.rename(build, previous)
        return previous
    os.rename(live, previous)
    os.rename(build, live)
    return previous


def exchange(a: Path, b: Path) -> bool:
    """renameat2(RENAME_EXCHANGE); False where the kernel or the filesystem lacks it."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def folder_mode(path: Path) -> int:
    if path.is_dir():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask
