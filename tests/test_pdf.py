"""PDFs and scans: text layers, ruled tables, OCR, pages in evidence, and broken files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from conftest import GOLD_DIR, SAMPLES, SCORER
from reportlab.pdfgen import canvas

from bench.synth import make_pdf, paginate, scan_image, scanned_pdf, text_pdf
from pipeline.batch import Options, run
from pipeline.read import Limits, read_file
from pipeline.read.pdf import open_pdf, page_layer

QUICK = Options(jobs=1, use_spacy=False)


def scorer_f1(conventions_json, tmp_path, gold_dir=GOLD_DIR) -> float:
    """The scorer's figure, with each record named after the sample it was built from."""
    records = json.loads(conventions_json.read_text(encoding="utf-8"))
    for record in records:
        stem = record["fichier_source"].rsplit(".", 1)[0]
        record["fichier_source"] = f"{stem}.txt"
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(SCORER), str(renamed), str(gold_dir), "--json"], capture_output=True, text=True
    )
    return json.loads(result.stdout)["f1"]


@pytest.fixture(scope="module")
def text_f1(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("txt")
    run(SAMPLES, tmp, QUICK)
    return scorer_f1(tmp / "conventions.json", tmp)


@pytest.fixture(scope="module")
def text_pdfs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text_pdfs")
    layouts = {s.stem: text_pdf(s.read_text(encoding="utf-8"), folder / f"{s.stem}.pdf") for s in SAMPLES}
    out = folder / "out"
    run([folder], out, QUICK)
    return out, layouts


def test_text_pdfs_score_within_001_of_the_text_files(text_pdfs, text_f1, tmp_path):
    out, _ = text_pdfs
    assert scorer_f1(out / "conventions.json", tmp_path) >= text_f1 - 0.01


def test_text_pdf_pages_are_read_from_the_text_layer(text_pdfs):
    out, layouts = text_pdfs
    for record in json.loads((out / "conventions.json").read_text()):
        methods = {page["method"] for page in record["pages"]}
        assert methods == {"text"}
        assert len(record["pages"]) == len(layouts[record["fichier_source"][:-4]])


def test_evidence_names_the_page_the_value_is_printed_on(text_pdfs):
    out, layouts = text_pdfs
    for record in json.loads((out / "conventions.json").read_text()):
        pages = layouts[record["fichier_source"][:-4]]
        for field in ("centre_financier", "lieu_signature"):
            evidence = record["evidence"][field]
            printed = [
                n for n, page in enumerate(pages, 1) if any(evidence["text"] in line for line in page.lines)
            ]
            assert evidence["page"] in printed, (record["fichier_source"], field)


@pytest.mark.ocr
def test_scanned_pdfs_score_at_least_090(tmp_path):
    for sample in SAMPLES:
        scanned_pdf(sample.read_text(encoding="utf-8"), tmp_path / f"{sample.stem}.pdf")
    run([tmp_path], tmp_path / "out", Options(jobs=0, use_spacy=False))
    records = json.loads((tmp_path / "out" / "conventions.json").read_text())
    assert {page["method"] for r in records for page in r["pages"]} == {"ocr"}
    assert all(page["ocr_confidence"] > 60 for r in records for page in r["pages"])
    assert scorer_f1(tmp_path / "out" / "conventions.json", tmp_path) >= 0.90


@pytest.mark.ocr
def test_mixed_pdf_is_read_page_by_page(tmp_path):
    text = SAMPLES[3].read_text(encoding="utf-8")
    make_pdf(text, tmp_path / "mixte.pdf", scanned=lambda number: number % 2 == 0)
    run([tmp_path / "mixte.pdf"], tmp_path / "out", QUICK)
    record = json.loads((tmp_path / "out" / "conventions.json").read_text())[0]
    methods = [page["method"] for page in record["pages"]]
    assert methods[:4] == ["text", "ocr", "text", "ocr"]
    assert record["centre_financier"] == "0103-CEFP-C003"


@pytest.mark.ocr
def test_multipage_tiff_scan_is_read(tmp_path):
    import random

    pages = paginate(SAMPLES[3].read_text(encoding="utf-8"))
    rng = random.Random(3)
    images = [scan_image(page, rng) for page in pages]
    images[0].save(tmp_path / "scan.tif", save_all=True, append_images=images[1:], compression="tiff_lzw")
    run([tmp_path / "scan.tif"], tmp_path / "out", QUICK)
    record = json.loads((tmp_path / "out" / "conventions.json").read_text())[0]
    assert (record["centre_financier"], record["montant_total"]) == ("0103-CEFP-C003", 100000)


def pdf_of_pages(path, pages) -> None:
    """A PDF whose pages are drawn by the given functions of a reportlab canvas."""
    pdf = canvas.Canvas(str(path))
    for draw in pages:
        draw(pdf)
        pdf.showPage()
    pdf.save()


def text_lines(*lines: str):
    def draw(pdf) -> None:
        for number, line in enumerate(lines):
            pdf.drawString(72, 760 - 14 * number, line)

    return draw


def picture(left: float, bottom: float, width: float, height: float, words: str = ""):
    """An image of grey paper (with words printed in it, when given) placed on the page."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    image = Image.new("L", (round(width * 300 / 72), round(height * 300 / 72)), 235)
    ImageDraw.Draw(image).text((40, 40), words, fill=0)

    def draw(pdf) -> None:
        pdf.drawImage(ImageReader(image), left, bottom, width, height)

    return draw


def both(*draws):
    def draw(pdf) -> None:
        for step in draws:
            step(pdf)

    return draw


def layers_of(path) -> list:
    pdf = open_pdf(path)
    try:
        return [page_layer(pdf[i]) for i in range(len(pdf))]
    finally:
        pdf.close()


BODY = [f"Article {n} : le délégataire exécute les dépenses pour le compte du délégant." for n in range(30)]


def test_a_short_text_page_is_read_from_its_text_layer_not_by_ocr(tmp_path):
    pdf_of_pages(tmp_path / "court.pdf", [text_lines(*BODY), text_lines("Référence interne : 1")])
    doc = read_file(tmp_path / "court.pdf", Limits())
    assert [page.method for page in doc.pages] == ["text", "text"]
    assert doc.text.endswith("Référence interne : 1")
    assert doc.scans == {}


def test_each_page_is_read_the_way_its_content_asks(tmp_path):
    width, height = 595.27, 841.89  # reportlab's default page, A4
    signature = picture(300, 100, 160, 60)
    scan = picture(0, 0, width, height, "Convention de délégation de gestion")
    pdf_of_pages(
        tmp_path / "pages.pdf",
        [
            both(text_lines(*BODY[:3]), signature),  # a text page signed with a scanned signature
            scan,  # a scanned page
            both(scan, text_lines("Reçu le 3 mars 2021")),  # a scan with a note typed over it
            lambda pdf: None,  # a blank page
        ],
    )
    layers = layers_of(tmp_path / "pages.pdf")
    assert [layer.ocr for layer in layers] == [False, True, True, False]
    assert layers[0].blocks == ()  # a signature is no block of print to read


@pytest.mark.ocr
def test_an_image_only_page_is_read_by_ocr_and_the_text_pages_beside_it_are_not(tmp_path):
    scan = picture(0, 0, 595.27, 841.89, "Convention de délégation de gestion")
    pdf_of_pages(tmp_path / "mixte.pdf", [text_lines(*BODY), scan, text_lines("Page 3")])
    doc = read_file(tmp_path / "mixte.pdf", Limits(ocr_workers=1))
    assert [page.method for page in doc.pages] == ["text", "ocr", "text"]
    assert list(doc.scans) == [2]


def print_block(left: float, bottom: float, lines: list[str]):
    """An image of printed lines, at 300 dpi, placed on the page (a pasted signature block)."""
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader

    from bench.synth import FONT_FILE

    image = Image.new("L", (1600, 90 * len(lines) + 60), 255)
    font = ImageFont.truetype(FONT_FILE, 46)
    for number, line in enumerate(lines):
        ImageDraw.Draw(image).text((30, 30 + 90 * number), line, font=font, fill=0)

    def draw(pdf) -> None:
        pdf.drawImage(ImageReader(image), left, bottom, image.width * 72 / 300, image.height * 72 / 300)

    return draw


@pytest.mark.ocr
def test_a_block_of_print_pasted_as_an_image_on_a_text_page_is_read_in_its_place(tmp_path):
    block = print_block(72, 600, ["Fait à Paris, le 12 mars 2021", "Le directeur du budget"])
    text = text_lines("Article 9 : la convention prend effet à sa signature.")
    after = text_lines(*[""] * 15, "Annexe : tableau des crédits")  # below the block
    pdf_of_pages(tmp_path / "signe.pdf", [both(text, block, after)])
    doc = read_file(tmp_path / "signe.pdf", Limits(ocr_workers=1))
    assert [page.method for page in doc.pages] == ["text"]
    lines = [line for line in doc.text.splitlines() if line.strip()]
    assert lines[0].startswith("Article 9") and lines[-1] == "Annexe : tableau des crédits"
    assert "Fait à Paris, le 12 mars 2021" in doc.text


def errors_of(outdir):
    with open(outdir / "errors.csv", encoding="utf-8-sig") as handle:
        return {row["fichier"].rsplit("/", 1)[-1]: row for row in csv.DictReader(handle)}


def blank_pdf(path, pages: int, **options) -> None:
    pdf = canvas.Canvas(str(path), **options)
    for _ in range(pages):
        pdf.drawString(72, 720, "page")
        pdf.showPage()
    pdf.save()


def test_bad_pdfs_each_give_one_error_line_and_the_batch_goes_on(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    blank_pdf(inbox / "chiffre.pdf", 1, encrypt="secret")
    text_pdf(SAMPLES[0].read_text(encoding="utf-8"), inbox / "tronque.pdf")
    data = (inbox / "tronque.pdf").read_bytes()
    (inbox / "tronque.pdf").write_bytes(data[: len(data) // 3])
    (inbox / "faux.pdf").write_text("ceci n'est pas un PDF", encoding="utf-8")
    blank_pdf(inbox / "long.pdf", 500)
    text_pdf(SAMPLES[2].read_text(encoding="utf-8"), inbox / "bon.pdf")
    options = Options(limits=Limits(max_pages=200), jobs=1, use_spacy=False)
    summary = run([inbox], tmp_path / "out", options)
    errors = errors_of(tmp_path / "out")
    assert errors["chiffre.pdf"]["type_erreur"] == "pdf_chiffre"
    assert errors["tronque.pdf"]["type_erreur"] == "pdf_endommage"
    assert errors["faux.pdf"]["type_erreur"] == "pdf_endommage"
    assert errors["faux.pdf"]["message"] == "PDF endommagé : ce n'est pas un PDF, ou sa structure est abîmée"
    assert errors["tronque.pdf"]["message"].startswith("PDF endommagé : ")
    assert "PDFium" not in errors["tronque.pdf"]["message"]
    assert errors["long.pdf"]["type_erreur"] == "trop_volumineux"
    assert [r["fichier_source"] for r in summary.records] == ["bon.pdf"]


@pytest.mark.ocr
def test_image_of_noise_gives_an_error_not_a_record(tmp_path):
    import random

    from PIL import Image

    rng = random.Random(1)
    noise = Image.new("L", (1200, 1600))
    noise.putdata([rng.choice((0, 255)) for _ in range(1200 * 1600)])
    noise.save(tmp_path / "bruit.png")
    summary = run([tmp_path / "bruit.png"], tmp_path / "out", QUICK)
    assert summary.records == []
    assert errors_of(tmp_path / "out")["bruit.png"]["type_erreur"] in ("aucun_texte", "pas_une_convention")
