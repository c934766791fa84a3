"""What `extract` exits with tells what happened: all extracted (0), some files not (1), a
command refused (2), outputs that could not be written (3), interrupted (130)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, SAMPLES

import pipeline.worker
from pipeline.cli import cli

EXIT_IO, EXIT_INTERRUPTED = 3, 130


def unwritable(tmp_path) -> Path:
    """A folder no write reaches: a read-only one, or for root, one in /sys."""
    if os.geteuid() != 0:
        folder = tmp_path / "lecture-seule"
        folder.mkdir(mode=0o555)
        return folder / "cache"
    if not Path("/sys/kernel").is_dir():
        pytest.skip("no read-only folder to try as root")
    return Path("/sys/kernel/cache-conventions")


def test_a_cache_that_cannot_be_written_exits_3_in_one_french_line(tmp_path):
    cache = unwritable(tmp_path)
    args = ["extract", str(SAMPLES[0]), "-o", str(tmp_path / "out"), "--no-spacy", "--cache", str(cache)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == EXIT_IO
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"Erreur : écriture impossible dans « {cache}")
    assert "Traceback" not in result.output


def test_ctrl_c_exits_130_and_leaves_the_output_folder_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "out"
    CliRunner().invoke(cli, ["extract", str(SAMPLES[0]), "-o", str(out), "--no-spacy", "-j", "1"])
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}

    def interrupted(path):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.worker, "process", interrupted)
    args = ["extract", *map(str, SAMPLES[1:]), "-o", str(out), "--no-spacy", "-j", "1", "--no-cache"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == EXIT_INTERRUPTED
    assert result.output.strip() == f"interrompu : rien n'est changé dans « {out} »"
    assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == [".out.lock", "out"]


def test_sigterm_stops_a_run_as_ctrl_c_does(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for index in range(400):
        text = SAMPLES[index % 5].read_text(encoding="utf-8")
        (inbox / f"c{index}.txt").write_text(f"{text}\nRéférence {index}\n", encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "pipeline", "extract", str(inbox), "-o", str(out), "-j", "2"]
    process = subprocess.Popen(
        [*command, "--no-spacy"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    line = process.stderr.readline()  # the first tenth is done: the run is midway
    assert line.startswith("extraction : 40/400")
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=60) == EXIT_INTERRUPTED
    said = process.stderr.read()
    assert f"interrompu : rien n'est changé dans « {out} »" in said
    assert "Traceback" not in said
    assert sorted(path.name for path in tmp_path.iterdir()) == [".out.lock", "in", "out"]
    assert [path.name for path in out.iterdir()] == [".cache"]  # what was read is kept for next time


def test_dask_log_lines_in_english_are_left_out_unless_asked_for(monkeypatch):
    import logging

    distributed = pytest.importorskip("distributed")
    from pipeline.model import Options
    from pipeline.units import Cluster

    # Not asked for: no -v, whatever an earlier run in this process set (setLevel, which also
    # clears the loggers' cache of levels).
    ours = logging.getLogger("pipeline")
    monkeypatch.setattr(ours, "level", ours.level)  # put back after the test
    ours.setLevel(logging.WARNING)
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as local:
        runner = Cluster(Options(use_spacy=False, cluster=local.scheduler_address), None)
        try:
            assert not logging.getLogger("distributed.client").isEnabledFor(logging.WARNING)
        finally:
            runner.close()
