"""What each image clean-up step buys, per scan profile: the scans read with every step, then
with each step left out in turn, scored against their gold records.

usage: python -m bench.steps RENDERED [--profiles office,fax,...] [--only PREFIX] [--jobs N]

RENDERED is a folder written by tests/tools/render_hard.py. A step a page does not need
(colour dropout on a grey page, enlarging a 300-dpi page) is not tried without it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from pipeline.extract.record import extract_document
from pipeline.model import Limits
from pipeline.patterns import load_patterns
from pipeline.read import images, read_file

SCORER = Path(__file__).resolve().parent.parent / "tests" / "tools" / "score.py"


def scorer():
    spec = importlib.util.spec_from_file_location("score", SCORER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def f1_with(
    steps: frozenset[str], pdfs: list[Path], gold: Path, limits: Limits, patterns
) -> tuple[float, set]:
    """F1 of the PDFs read with these clean-up steps, and the steps the pages used."""
    images.STEPS = steps
    predictions, used = {}, set()
    for pdf in pdfs:
        doc = read_file(pdf, limits)
        used |= {step for scan in doc.scans.values() for step in scan.steps}
        try:
            predictions[pdf.name] = {"fichier_source": pdf.name, **extract_document(doc, patterns)}
        except Exception:  # a scan read too badly to be a convention scores as missing
            continue
    score = scorer()
    fields, _ = score.score(predictions, str(gold))
    return score.f1(*[sum(c[i] for c in fields.values()) for i in range(3)]), used


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.steps", description=__doc__.split("\n\n")[0])
    parser.add_argument("rendered", type=Path)
    parser.add_argument("--profiles", default="office,skewed,fax,photocopy,stamped,twocol")
    parser.add_argument("--only", default="", help="read only the PDFs whose name starts so")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    limits = replace(Limits(), ocr_workers=args.jobs)
    patterns = load_patterns()
    every = images.STEPS
    print("| profile | all steps | " + " | ".join(f"without {s}" for s in sorted(every)) + " |")
    print("| --- | --- |" + " --- |" * len(every))
    for profile in args.profiles.split(","):
        pdfs = sorted((args.rendered / profile).glob(f"{args.only}*.pdf"))
        gold = Path(tempfile.mkdtemp(prefix=f"gold-{profile}-"))
        for pdf in pdfs:
            source = args.rendered / f"gold-{profile}" / f"{pdf.stem}.json"
            (gold / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        full, used = f1_with(every, pdfs, gold, limits, patterns)
        cells = []
        for step in sorted(every):
            if step not in used:
                cells.append("–")
                continue
            cells.append(f"{f1_with(every - {step}, pdfs, gold, limits, patterns)[0]:.3f}")
        print(f"| {profile} | {full:.3f} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
