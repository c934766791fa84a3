"""`make bench`: how fast the pipeline reads texts, text PDFs and scans, on this machine."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench.scans import project_read, tesseract_texts
from bench.synth import corpus, scanned_pdf, text_pdf
from pipeline.batch import Options, run
from pipeline.dataset.write import write_atomic
from pipeline.read import Limits, read_file
from pipeline.read.pdf import open_pdf

RENDER_HARD = Path(__file__).resolve().parent.parent / "tests" / "tools" / "render_hard.py"
SHORT_SCAN = Path(__file__).resolve().parent.parent / "tests" / "scans"
# Scan profiles timed against bare Tesseract (photocopy needs augraphy and minutes a page to draw).
PROFILES = ("office", "skewed", "fax", "stamped", "twocol")
# Runs the command and prints the peak resident memory of its processes, in kB.
PEAK = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


@dataclass(frozen=True, slots=True)
class Timing:
    seconds: float
    peak_mb: float


def timed(command: list[str]) -> Timing:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PEAK, *command], capture_output=True, text=True, check=True)
    return Timing(time.perf_counter() - start, int(done.stdout.split()[-1]) / 1024)


def extract_command(folder: Path, outdir: Path, *flags: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", "extract", str(folder), "-o", str(outdir), *flags]


def pages_per_second(paths: list[Path]) -> tuple[float, int, int]:
    """Pages read per second, pages, and how many of them were read by OCR."""
    start, pages, ocr = time.perf_counter(), 0, 0
    for path in paths:
        infos = read_file(path, Limits()).pages
        pages += len(infos)
        ocr += sum(page.method == "ocr" for page in infos)
    return pages / (time.perf_counter() - start), pages, ocr


def pdftotext_rate(paths: list[Path], pages: int) -> float:
    """Pages per second of poppler's pdftotext on the same PDFs: the reference for text PDFs."""
    start = time.perf_counter()
    for path in paths:
        subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
    return pages / (time.perf_counter() - start)


def text_pdf_row(texts: list[str], folder: Path) -> tuple[str, str, str]:
    """Text PDFs, each ending on a page that holds one line, read from their text layers."""
    folder.mkdir(parents=True)
    for number, text in enumerate(texts):
        text_pdf(text, folder / f"{number}.pdf", tail=f"Référence interne : {number}")
    paths = sorted(folder.glob("*.pdf"))
    rate, pages, ocr = pages_per_second(paths)
    reference = pdftotext_rate(paths, pages) if shutil.which("pdftotext") else float("nan")
    note = f"{pages} pages, {len(paths)} of them one line alone, {ocr} read by OCR"
    return ("text-PDF pages per second", f"{rate:.1f}", f"{note}; pdftotext: {reference:.1f}")


def page_count(path: Path) -> int:
    pdf = open_pdf(path)
    try:
        return len(pdf)
    finally:
        pdf.close()


def profile_rows(workdir: Path, jobs: int) -> list[tuple[str, str, str]]:
    """Our reading of a short convention's scans, per render_hard profile, against bare
    Tesseract on the same pages with the same parallelism (pdftoppm at 300 dpi, no clean-up)."""
    spec = importlib.util.spec_from_file_location("render_hard", RENDER_HARD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    font = next(f for f in module.FONT_CHOICES if Path(f[0].format(f[1][""])).exists())
    workdir.mkdir(parents=True)
    for profile in PROFILES:
        (workdir / profile).mkdir()
    for text in sorted(SHORT_SCAN.glob("*.txt")):
        module.render_one((text, workdir, list(PROFILES), 93, font))
    rows = []
    for profile in PROFILES:
        pdfs = sorted((workdir / profile).glob("*.pdf"))
        ours, _ = project_read(pdfs, jobs)
        bare, _ = tesseract_texts(pdfs, workdir / "tesseract" / profile, jobs)
        pages = sum(page_count(pdf) for pdf in pdfs)
        note = f"bare Tesseract: {bare:.1f} s on the same {pages} pages, {jobs} at a time"
        rows.append((f"OCR time, {profile} scans", f"{ours:.1f} s", f"{ours / bare:.2f}× ({note})"))
    return rows


def run_bench(samples: list[Path], workdir: Path, count: int = 1000) -> str:
    if workdir.exists():
        shutil.rmtree(workdir)
    texts = [path.read_text(encoding="utf-8") for path in samples]
    folder = workdir / "corpus"
    corpus(texts, folder, count)
    one = timed(extract_command(folder, workdir / "one", "-j", "1", "--no-cache"))
    two = timed(extract_command(folder, workdir / "two", "-j", "2", "--no-cache"))
    cores = os.cpu_count() or 1
    every, every_dir = two, workdir / "two"
    if cores > 2:
        every_dir = workdir / "all"
        every = timed(extract_command(folder, every_dir, "-j", str(cores), "--no-cache"))
    timed(extract_command(folder, workdir / "cached", "-j", str(cores)))
    cached = timed(extract_command(folder, workdir / "cached", "-j", str(cores)))
    scanned_pdf(texts[-1], workdir / "scan.pdf")
    ocr_rate, ocr_pages, _ = pages_per_second([workdir / "scan.pdf"])
    scheduled = scheduling_rows(texts, workdir / "scheduling")
    rows = [
        (
            "text documents per second, 1 job",
            f"{count / one.seconds:.0f}",
            f"{count} files in {one.seconds:.1f} s",
        ),
        (
            "text documents per second, 2 jobs",
            f"{count / two.seconds:.0f}",
            f"{one.seconds / two.seconds:.2f}× the single job on the same files",
        ),
        *(
            [
                (
                    f"text documents per second, {cores} jobs",
                    f"{count / every.seconds:.0f}",
                    f"{one.seconds / every.seconds:.2f}× the single job",
                )
            ]
            if cores > 2
            else []
        ),
        ("peak memory of one process", f"{max(one.peak_mb, every.peak_mb):.0f} MB", "resident set"),
        (
            "cached re-run",
            f"{cached.seconds:.2f} s",
            f"{every.seconds / cached.seconds:.0f}× faster than cold",
        ),
        text_pdf_row(texts, workdir / "pdf"),
        ("OCR pages per second", f"{ocr_rate:.2f}", f"{ocr_pages} pages at 300 dpi, {cores} in parallel"),
        *scheduled,
        *profile_rows(workdir / "profiles", cores),
        review_row(every_dir / "review.html", count),
    ]
    table = "\n".join(f"| {name} | {value} | {note} |" for name, value, note in rows)
    return (
        f"# Benchmark\n\nOn {cores} cores, whole processes from the command line (start-up included).\n\n"
        f"| measure | value | note |\n| --- | --- | --- |\n{table}\n"
    )


def scheduling_rows(texts: list[str], workdir: Path, rounds: int = 2) -> list[tuple[str, str, str]]:
    """OCR pages per second through the whole batch, on the same scanned PDFs: a pool of two
    processes (--jobs 2), then a Dask cluster of two worker processes on this machine, one
    thread each (started beforehand, as a cluster is); runs interleaved, the best of each kept."""
    from distributed import LocalCluster

    folder = workdir / "scans"
    folder.mkdir(parents=True)
    for number, text in enumerate(texts[:2]):
        scanned_pdf(text, folder / f"scan{number}.pdf")
    quick = Options(use_spacy=False, use_cache=False)
    best = {"jobs": float("inf"), "cluster": float("inf")}
    settings = {"dashboard_address": None, "worker_dashboard_address": None}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, **settings) as cluster:
        modes = {"jobs": replace(quick, jobs=2), "cluster": replace(quick, cluster=cluster.scheduler_address)}
        for _ in range(rounds):
            for mode, options in modes.items():
                start = time.perf_counter()
                summary = run([folder], workdir / mode, options)
                best[mode] = min(best[mode], time.perf_counter() - start)
    pages = sum(len(record["pages"]) for record in summary.records)
    jobs, cluster = pages / best["jobs"], pages / best["cluster"]
    cores = min(2, os.cpu_count() or 1)
    return [
        (
            "OCR pages per second, --jobs 2",
            f"{jobs:.2f}",
            f"{pages} scanned pages, whole batch, outputs included",
        ),
        ("OCR pages per second per core", f"{jobs / cores:.2f}", f"--jobs 2 over {cores} cores"),
        (
            "OCR pages per second, Dask LocalCluster, 2 workers",
            f"{cluster:.2f}",
            f"{cluster / jobs:.2f}× --jobs 2 on the same pages, interleaved runs",
        ),
    ]


def review_row(html: Path, count: int) -> tuple[str, str, str]:
    """How long review.html takes to show its conventions, in headless Chromium."""
    from pipeline.dataset.browser import BrowserMissing, load_seconds

    size = f"{html.stat().st_size / 1e6:.1f} MB"
    try:
        seconds = load_seconds(html)
    except BrowserMissing as missing:
        return ("review.html load", "not measured", str(missing))
    return ("review.html load", f"{seconds:.2f} s", f"{count} conventions, {size}, headless Chromium")


def bench(samples: list[Path], outdir: Path, count: int) -> str:
    report = run_bench(samples, outdir / "bench", count)
    write_atomic(outdir / "bench.md", report)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("samples", nargs="?", default="samples", type=Path, help="folder of .txt conventions")
    parser.add_argument("-o", "--output", default="outputs", type=Path, help="writes OUTPUT/bench.md")
    parser.add_argument("--count", default=1000, type=int, help="conventions in the generated corpus")
    args = parser.parse_args()
    print(bench(sorted(args.samples.glob("*.txt")), args.output, args.count))
