"""Scans read four ways, scored against their gold records: the project, bare Tesseract,
OCRmyPDF and, for reference, the same texts as text PDFs.

usage: python -m bench.scans RENDERED [-o OUTDIR] [--methods project,tesseract,ocrmypdf]
       [--profiles office,fax,...] [--jobs N] [--ocrmypdf PATH]

RENDERED is a folder written by tests/tools/render_hard.py: one folder of PDFs per profile and
its gold copies in gold-<profile>/. Bare Tesseract is `tesseract page - -l fra` on
`pdftoppm -r 300 -gray` pages; OCRmyPDF runs with `--deskew --clean`; both texts go through the
same extractor as .txt files (pdftoppm writes uncompressed PGM pages, so that bare
Tesseract's time is not spent compressing PNGs). Prints a Markdown table of F1 per profile and
method and, for the project and bare Tesseract, the time to read the same pages with the same
parallelism.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from pipeline.model import Limits
from pipeline.read import read_file

SCORER = Path(__file__).resolve().parent.parent / "tests" / "tools" / "score.py"
ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def score(conventions: Path, gold: Path, suffix: str = ".pdf") -> float:
    """The scorer's F1, with records made from .txt files renamed after their PDFs."""
    records = json.loads(conventions.read_text(encoding="utf-8"))
    for record in records:
        record["fichier_source"] = Path(record["fichier_source"]).stem + suffix
    renamed = conventions.with_name("scored.json")
    renamed.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(SCORER), str(renamed), str(gold), "--json"], capture_output=True, text=True
    )
    return json.loads(done.stdout)["f1"]


def extract(folder: Path, outdir: Path) -> Path:
    command = [sys.executable, "-m", "pipeline", "extract", str(folder), "-o", str(outdir), "--no-cache"]
    subprocess.run(command, capture_output=True, check=False)
    return outdir / "conventions.json"


def tesseract_texts(pdfs: list[Path], outdir: Path, jobs: int) -> tuple[float, float]:
    """Each PDF as bare Tesseract reads it, pages in parallel; returns wall and CPU seconds."""
    outdir.mkdir(parents=True, exist_ok=True)
    start, cpu = time.perf_counter(), cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        pages = []
        for pdf in pdfs:
            prefix = Path(tmp) / pdf.stem
            subprocess.run(["pdftoppm", "-r", "300", "-gray", str(pdf), str(prefix)], check=True)
            pages += [(pdf, image) for image in sorted(Path(tmp).glob(f"{pdf.stem}-*.pgm"))]

        def read(image: Path) -> str:
            command = ["tesseract", str(image), "-", "-l", "fra"]
            return subprocess.run(command, capture_output=True, text=True, env=ENV).stdout

        with ThreadPoolExecutor(jobs) as pool:
            texts = list(pool.map(read, [image for _, image in pages]))
    for pdf in pdfs:
        joined = "\n\n".join(text for (source, _), text in zip(pages, texts, strict=True) if source == pdf)
        (outdir / f"{pdf.stem}.txt").write_text(joined, encoding="utf-8")
    return time.perf_counter() - start, cpu_seconds() - cpu


def ocrmypdf_texts(pdfs: list[Path], outdir: Path, jobs: int, command: str) -> None:
    outdir.mkdir(parents=True, exist_ok=True)

    def read(pdf: Path) -> None:
        sidecar = outdir / f"{pdf.stem}.txt"
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [
                    command,
                    "--deskew",
                    "--clean",
                    "-l",
                    "fra",
                    "-j",
                    "1",
                    "--sidecar",
                    str(sidecar),
                    "-q",
                    str(pdf),
                    str(Path(tmp) / "out.pdf"),
                ],
                capture_output=True,
                env=ENV,
                check=False,
            )
        if sidecar.exists():
            sidecar.write_text(sidecar.read_text(encoding="utf-8").replace("\f", "\n\n"), encoding="utf-8")

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(read, pdfs))


def project_read(pdfs: list[Path], jobs: int) -> tuple[float, float]:
    """The project reading the same PDFs, its pages in parallel; wall and CPU seconds."""
    limits = replace(Limits(), ocr_workers=jobs)
    start, cpu = time.perf_counter(), cpu_seconds()
    for pdf in pdfs:
        read_file(pdf, limits)
    return time.perf_counter() - start, cpu_seconds() - cpu


def compare(rendered: Path, outdir: Path, methods: list[str], profiles: list[str], jobs: int, ocrmypdf: str):
    rows, timings = [], []
    for profile in profiles:
        pdfs = sorted((rendered / profile).glob("*.pdf"))
        gold = rendered / f"gold-{profile}"
        if not pdfs:
            continue
        row = {"profile": profile}
        if "project" in methods:
            row["project"] = score(extract(rendered / profile, outdir / "project" / profile), gold)
        if "tesseract" in methods and profile not in ("pdf", "pdf-twocol"):
            folder = outdir / "tesseract" / profile
            bare = tesseract_texts(pdfs, folder / "txt", jobs)
            row["tesseract"] = score(extract(folder / "txt", folder / "out"), gold)
            if "project" in methods:
                ours = project_read(pdfs, jobs)
                timings.append((profile, ours, bare))
        if "ocrmypdf" in methods and profile not in ("pdf", "pdf-twocol"):
            folder = outdir / "ocrmypdf" / profile
            ocrmypdf_texts(pdfs, folder / "txt", jobs, ocrmypdf)
            row["ocrmypdf"] = score(extract(folder / "txt", folder / "out"), gold)
        rows.append(row)
        print(row, file=sys.stderr)
    return rows, timings


def report(rows: list[dict], timings: list, methods: list[str], jobs: int) -> str:
    lines = ["| profile | " + " | ".join(methods) + " |", "| --- |" + " --- |" * len(methods)]
    for row in rows:
        cells = [f"{row[m]:.3f}" if m in row else "–" for m in methods]
        lines.append(f"| {row['profile']} | " + " | ".join(cells) + " |")
    if timings:
        lines += [
            "",
            f"Reading time, same pages, {jobs} pages in parallel (wall s / CPU s):",
            "",
            "| profile | project | bare Tesseract | ratio (wall) |",
            "| --- | --- | --- | --- |",
        ]
        for profile, ours, bare in timings:
            lines.append(
                f"| {profile} | {ours[0]:.1f} / {ours[1]:.1f} | {bare[0]:.1f} / {bare[1]:.1f} | "
                f"{ours[0] / bare[0]:.2f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scans", description=__doc__.split("\n\n")[0])
    parser.add_argument("rendered", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=Path("outputs/scans"))
    parser.add_argument("--methods", default="project,tesseract,ocrmypdf")
    parser.add_argument("--profiles", default="office,skewed,fax,photocopy,stamped,twocol,pdf")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--ocrmypdf", default=shutil.which("ocrmypdf") or "ocrmypdf")
    args = parser.parse_args()
    methods = args.methods.split(",")
    rows, timings = compare(
        args.rendered, args.output, methods, args.profiles.split(","), args.jobs, args.ocrmypdf
    )
    print(report(rows, timings, methods, args.jobs))


if __name__ == "__main__":
    main()
