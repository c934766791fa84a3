"""The output folder changes in one step, one run at a time, and a bad -o is one French line."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES

from pipeline.batch import Options, run
from pipeline.outdir import OutputBusy, OutputFolder

QUICK = Options(jobs=1, use_spacy=False)
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def extract(*args: str, **popen) -> subprocess.Popen:
    command = [sys.executable, "-m", "pipeline", "extract", *map(str, args), "--no-spacy"]
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen
    )


def finished(process: subprocess.Popen) -> tuple[int, str]:
    _, err = process.communicate(timeout=300)
    return process.returncode, err


def folder_of(samples: list[Path], folder: Path) -> Path:
    folder.mkdir()
    for sample in samples:
        shutil.copy(sample, folder)
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def sources_in(folder: Path) -> dict[str, set[str]]:
    """Which input files each output speaks of: every table must speak of the same ones."""
    records = json.loads((folder / "conventions.json").read_text(encoding="utf-8"))
    ids = {r["id"]: r["fichier_source"] for r in records}

    def column(name: str, key: str) -> set[str]:
        with open(folder / name, encoding="utf-8-sig") as handle:
            return {row[key] for row in csv.DictReader(handle)}

    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    return {
        "conventions.json": set(ids.values()),
        "conventions.csv": column("conventions.csv", "fichier_source"),
        "montants.csv": {ids[i] for i in column("montants.csv", "convention_id")},
        "review.csv": column("review.csv", "fichier_source") - {""},
        "review.html": {s for s in ids.values() if s in (folder / "review.html").read_text(encoding="utf-8")},
        "datapackage.json": {s for s in ids.values() if s in json.dumps(package, ensure_ascii=False)},
    }


def test_a_run_swaps_the_whole_folder_and_keeps_what_it_does_not_write(tmp_path):
    out = tmp_path / "out"
    run(SAMPLES[:2], out, Options(jobs=1, use_spacy=False, use_cache=True))
    (out / "notes.txt").write_text("à garder", encoding="utf-8")
    cached = sorted(p.name for p in (out / ".cache").rglob("*.json"))
    inode = out.stat().st_ino
    run(SAMPLES[2:], out, Options(jobs=1, use_spacy=False, use_cache=True))
    assert out.stat().st_ino != inode  # a new folder took the old one's place
    assert (out / "notes.txt").read_text(encoding="utf-8") == "à garder"
    assert set(cached) <= {p.name for p in (out / ".cache").rglob("*.json")}
    assert set(sources_in(out)["conventions.json"]) == {s.name for s in SAMPLES[2:]}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.") and p.is_dir()] == []


@pytest.mark.slow
def test_kills_at_random_points_leave_the_old_dataset_or_the_new_one_never_a_mix(tmp_path):
    out = tmp_path / "out"
    old, new = folder_of(SAMPLES[:2], tmp_path / "old"), folder_of(SAMPLES[2:], tmp_path / "new")
    assert finished(extract(old, "-o", out, "-j", "1"))[0] == 0
    before = snapshot(out)
    start = time.monotonic()
    assert finished(extract(new, "-o", tmp_path / "probe", "-j", "1", "--no-cache"))[0] == 0
    duration = time.monotonic() - start
    rng = random.Random(14)
    outcomes = set()
    # Random points over the whole run, then the instant the new folder has taken the old one's
    # place (the run still has to put the cache back and remove the old folder).
    for moment in [*(rng.uniform(0.3, duration) for _ in range(7)), "swapped"]:
        process = extract(new, "-o", out, "-j", "1", "--no-cache")
        if moment == "swapped":
            inode = out.stat().st_ino
            while out.stat().st_ino == inode and process.poll() is None:
                time.sleep(0.005)
        else:
            time.sleep(moment)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if snapshot(out) == before:
            outcomes.add("old")
            continue
        sources = sources_in(out)
        assert all(found == {s.name for s in SAMPLES[2:]} for found in sources.values()), sources
        outcomes.add("new")
        assert finished(extract(old, "-o", out, "-j", "1"))[0] == 0
        before = snapshot(out)
    assert finished(extract(new, "-o", out, "-j", "1"))[0] == 0  # a killed run leaves nothing in the way
    assert outcomes == {"old", "new"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.") and p.is_dir()] == []


@pytest.mark.slow
def test_a_second_run_on_the_same_folder_is_refused_in_french(tmp_path):
    out = tmp_path / "out"
    run(SAMPLES[:1], out, QUICK)
    before = snapshot(out)
    inbox = tmp_path / "in"
    inbox.mkdir()
    for index in range(300):
        text = SAMPLES[index % 5].read_text(encoding="utf-8")
        (inbox / f"c{index}.txt").write_text(f"{text}\nRéférence {index}\n", encoding="utf-8")
    first = extract(inbox, "-o", out, "-j", "1")
    assert first.stderr.readline().startswith("extraction : 30/300")  # the first run is reading
    code, err = finished(extract(SAMPLES[1], "-o", out))
    assert code == 2
    assert err.strip().splitlines() == [
        f"Erreur : une extraction ou une publication utilise déjà « {out} » (processus {first.pid}) : "
        "attendre qu'elle se termine ou choisir un autre dossier de sortie (-o)"
    ]
    assert snapshot(out) == before
    first.kill()
    first.wait()


def test_the_lock_is_released_when_its_run_ends(tmp_path):
    with OutputFolder(tmp_path / "out"), pytest.raises(OutputBusy):
        OutputFolder(tmp_path / "out").__enter__()
    run(SAMPLES[:1], tmp_path / "out", QUICK)
    assert (tmp_path / "out" / "conventions.json").exists()


def test_an_input_with_no_readable_file_leaves_the_previous_dataset_untouched(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    out = tmp_path / "out"
    run(SAMPLES[:2], out, QUICK)
    before = snapshot(out)
    empty = tmp_path / "vide"
    empty.mkdir()
    (empty / "notes.docx").write_bytes(b"PK")
    result = CliRunner().invoke(cli, ["extract", str(empty), "-o", str(out), "--no-spacy"])
    assert result.exit_code == 1
    assert f"aucune convention lue : le jeu de données de « {out} » est laissé tel quel" in result.output
    assert snapshot(out) == before


def test_an_output_that_is_a_file_is_one_french_line(tmp_path):
    target = tmp_path / "conventions.json"
    target.write_text("[]", encoding="utf-8")
    code, err = finished(extract(SAMPLES[0], "-o", target))
    assert code == 2
    assert err.splitlines() == [
        f"Erreur : « {target} » est un fichier, pas un dossier : choisir un dossier de sortie (-o)"
    ]


def without_root_override() -> None:
    """Root passes every permission check; without these two capabilities it meets them."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)


def test_a_read_only_output_folder_is_one_french_line(tmp_path):
    locked = tmp_path / "sortie"
    locked.mkdir()
    os.chmod(locked, 0o555)
    code, err = finished(extract(SAMPLES[0], "-o", locked, preexec_fn=without_root_override))
    assert code == 2
    assert err.splitlines() == [
        f"Erreur : impossible d'écrire dans « {locked} » (permission refusée) : "
        "choisir un dossier de sortie accessible en écriture (-o)"
    ]
    assert list(locked.iterdir()) == []


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return False
    return status[0] != "Z"


@pytest.mark.slow
def test_workers_die_with_a_run_killed_by_sigkill(tmp_path):
    from pipeline.worker import children

    inbox = tmp_path / "in"
    inbox.mkdir()
    for index in range(400):
        text = SAMPLES[index % 5].read_text(encoding="utf-8")
        (inbox / f"c{index}.txt").write_text(f"{text}\nRéférence {index}\n", encoding="utf-8")
    process = extract(inbox, "-o", tmp_path / "out", "-j", "2")
    assert process.stderr.readline().startswith("extraction : ")
    workers = children(process.pid)
    assert len(workers) >= 2
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, workers))
