"""The same batch on a Dask cluster (two worker processes on this machine): the same records as
--jobs 2, a scan's pages spread over the workers, a worker lost midway, a cache they share."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import SAMPLES

from bench.synth import FONT_FILE, text_pdf, variant
from pipeline.batch import Options, run

distributed = pytest.importorskip("distributed")

QUICK = Options(use_spacy=False, use_cache=False)


class Finished(distributed.diagnostics.plugin.SchedulerPlugin):
    """A scheduler plugin noting which worker computed each task."""

    def __init__(self):
        self.workers: dict[str, str] = {}

    def transition(self, key, start, finish, *args, **kwargs):
        if finish == "memory" and "worker" in kwargs:
            self.workers[str(key)] = kwargs["worker"]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_dashboard_address=None,
    ) as local:
        yield local


def on(cluster, **options) -> Options:
    return Options(
        **{"use_spacy": False, "use_cache": False, "cluster": cluster.scheduler_address, **options}
    )


def small_scan(text: str, path: Path, pages: int) -> None:
    """An image-only PDF of the text cut into `pages` small pages: quick to OCR."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    lines = [
        part for line in text.replace("\t", "    ").splitlines() for part in textwrap.wrap(line, 80) or [""]
    ]
    per_page = -(-len(lines) // pages)
    font = ImageFont.truetype(FONT_FILE, 36)
    pdf = canvas.Canvas(str(path))
    for number in range(pages):
        chunk = lines[number * per_page : (number + 1) * per_page] or ["(page blanche)"]
        image = Image.new("L", (2100, 60 * len(chunk) + 80), 255)
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(chunk):
            draw.text((40, 40 + 60 * row), line, font=font, fill=0)
        size = (image.width * 72 / 300, image.height * 72 / 300)
        pdf.setPageSize(size)
        pdf.drawImage(ImageReader(image), 0, 0, *size)
        pdf.showPage()
    pdf.save()


@pytest.mark.slow
def test_the_cluster_gives_the_same_records_as_two_jobs(cluster, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for sample in SAMPLES:
        shutil.copy(sample, inbox)
    text_pdf(variant(SAMPLES[1].read_text(encoding="utf-8"), random.Random(1)), inbox / "texte.pdf")
    small_scan(SAMPLES[3].read_text(encoding="utf-8"), inbox / "scan.pdf", 6)
    (inbox / "vide.txt").write_bytes(b"")
    jobs = run([inbox], tmp_path / "jobs", Options(jobs=2, use_spacy=False, use_cache=False))
    dask = run([inbox], tmp_path / "dask", on(cluster))
    assert len(dask.records) == 7
    assert dask.records == jobs.records
    assert dask.errors == jobs.errors
    keep = {"conventions.json", "conventions.csv", "montants.csv", "errors.csv", "review.csv"}
    for name in keep:
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "jobs" / name).read_bytes(), name


@pytest.mark.ocr
@pytest.mark.slow
def test_a_50_page_scan_is_split_over_the_workers_and_put_back_in_order(cluster, tmp_path):
    text = SAMPLES[3].read_text(encoding="utf-8")
    small_scan(text, tmp_path / "long.pdf", 50)
    finished = Finished()
    cluster.scheduler.add_plugin(finished, name="finished-50")
    try:
        summary = run([tmp_path / "long.pdf"], tmp_path / "out", on(cluster))
    finally:
        cluster.scheduler.remove_plugin(name="finished-50")
    record = summary.records[0]
    assert [page["method"] for page in record["pages"]] == ["ocr"] * 50
    assert (record["centre_financier"], record["montant_total"]) == ("0103-CEFP-C003", 100000)
    ranges = {key: worker for key, worker in finished.workers.items() if key.startswith("read_pages-")}
    assert len(ranges) >= 10
    assert len(set(ranges.values())) == 2  # both workers read pages of the one file
    evidence = record["evidence"]
    order = [evidence[key]["page"] for key in ("delegant.nom", "centre_financier", "date_signature")]
    assert order == sorted(order) and order[0] < order[-1]  # the pages are back in their order


def kill_a_worker_reading_pages(cluster, killed: list) -> None:
    """As soon as a range of pages is being read, kill -9 the worker process reading it."""
    with distributed.Client(cluster, set_as_default=False) as client:
        pids = client.run(os.getpid)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            busy = [
                task.processing_on.address
                for key, task in list(cluster.scheduler.tasks.items())
                if str(key).startswith("read_pages-") and task.state == "processing" and task.processing_on
            ]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.05)


@pytest.mark.slow
def test_a_worker_killed_midway_costs_only_its_units(cluster, tmp_path):
    small_scan(SAMPLES[3].read_text(encoding="utf-8"), tmp_path / "scan.pdf", 24)
    for sample in SAMPLES:
        shutil.copy(sample, tmp_path)
    killed: list[str] = []
    killer = threading.Thread(target=kill_a_worker_reading_pages, args=(cluster, killed))
    killer.start()
    summary = run([tmp_path], tmp_path / "out", on(cluster))
    killer.join()
    assert killed, "no worker was killed"
    assert summary.errors == []
    assert len(summary.records) == 6
    scan = next(r for r in summary.records if r["fichier_source"] == "scan.pdf")
    assert all(page["method"] == "ocr" for page in scan["pages"]) and len(scan["pages"]) == 24
    assert scan["centre_financier"] == "0103-CEFP-C003"
    cluster.wait_for_workers(2, timeout=60)  # the nanny starts the killed worker again


@pytest.mark.slow
def test_workers_share_one_cache_that_a_later_run_reads_without_the_cluster(cluster, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    for name in ("a.txt", "b.txt", "c.txt", "d.txt"):  # same content: workers write the same key
        shutil.copy(SAMPLES[2], inbox / name)
    shared = tmp_path / "cache"
    first = run([inbox], tmp_path / "one", on(cluster, use_cache=True, cache=str(shared)))
    entries = [p for p in shared.rglob("*.json") if len(p.stem) == 64]
    assert len(entries) == 1 and json.loads(entries[0].read_text(encoding="utf-8"))["record"]
    nowhere = Options(use_spacy=False, use_cache=True, cache=str(shared), cluster="tcp://127.0.0.1:9")
    again = run([inbox], tmp_path / "two", nowhere)  # every file is in the cache: no cluster needed
    assert again.records == first.records


def test_writers_of_one_cache_entry_never_leave_half_of_it(tmp_path):
    import multiprocessing

    from pipeline.cache import Folder

    value = json.dumps({"record": {"texte": "é" * 200_000}}).encode()
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=write_often, args=(tmp_path, value)) for _ in range(2)]
    for writer in writers:
        writer.start()
    folder, seen = Folder(tmp_path), 0
    while any(writer.is_alive() for writer in writers):
        data = folder.read("ab/entry.json")
        if data is not None:
            assert json.loads(data) == json.loads(value)
            seen += 1
    assert seen > 0


def write_often(folder: Path, value: bytes) -> None:
    from pipeline.cache import Folder

    for _ in range(200):
        Folder(folder).write("ab/entry.json", value)


def test_an_fsspec_cache_keeps_outcomes_under_their_keys():
    from pipeline.cache import Cache

    cache = Cache("memory://conventions-cache", "test")
    cache.put("ab" + "0" * 62, {"path": "a.txt", "record": {"id": "x"}})
    assert cache.get("ab" + "0" * 62) == {"path": "a.txt", "record": {"id": "x"}}
    assert cache.get("cd" + "0" * 62) is None


def test_without_the_cluster_flag_dask_is_not_imported(tmp_path):
    import subprocess

    code = (
        "import sys; from pathlib import Path; from pipeline.batch import run, Options; "
        "run([Path(sys.argv[1])], Path(sys.argv[2]), Options(jobs=2, use_spacy=False)); "
        "print('distributed' in sys.modules, 'dask' in sys.modules)"
    )
    command = [sys.executable, "-c", code, str(SAMPLES[0]), str(tmp_path / "out")]
    done = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert done.stdout.split() == ["False", "False"], done.stderr
