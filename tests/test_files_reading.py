"""Reading files as they come: a stray byte in a UTF-8 text, NUL bytes, the time limit between
the pages of any file, and a pixel limit checked against the image's own header."""

from __future__ import annotations

import io
import struct
from types import SimpleNamespace

import pypdfium2
import pytest
from conftest import SAMPLES
from PIL import Image

import pipeline.read.files as files
import pipeline.read.ocr as ocr
from pipeline.batch import Options, run
from pipeline.errors import TooLarge
from pipeline.read import Limits, read_file
from pipeline.read.pdf import page_image

DELEGANT = "Direction générale des infrastructures, des transports et de la mer"


def test_a_stray_byte_in_a_utf8_text_is_repaired_where_it_is_and_said(tmp_path):
    text = SAMPLES[2].read_text(encoding="utf-8")
    raw = text.encode("utf-8").replace("Le délégant".encode(), b"Le d\xe9l\xe9gant", 1)
    assert raw != text.encode("utf-8")
    (tmp_path / "collage.txt").write_bytes(raw)
    doc = read_file(tmp_path / "collage.txt")
    assert DELEGANT in doc.text
    assert "Le délégant" in doc.text and "Ã" not in doc.text
    line = text[: text.index("Le délégant")].count("\n") + 1
    assert f"texte UTF-8 réparé : 2 octet(s) invalide(s) lu(s) en Windows-1252, ligne {line}" in texts(doc)


def test_nul_bytes_in_a_text_are_no_reason_to_refuse_it(tmp_path):
    text = SAMPLES[2].read_text(encoding="utf-8")
    (tmp_path / "nul.txt").write_bytes(text.encode("utf-8").replace(b"\n", b"\x00\n", 3))
    summary = run([tmp_path / "nul.txt"], tmp_path / "out", Options(jobs=1, use_spacy=False))
    [record] = summary.records
    assert record["delegant"]["nom"] == DELEGANT
    assert "3 caractère(s) de contrôle remplacé(s) par des espaces" in record["warnings"]


def test_the_time_limit_stops_a_multi_page_image_between_its_pages(tmp_path, monkeypatch):
    frames = [Image.new("L", (400, 400), 255) for _ in range(6)]
    frames[0].save(tmp_path / "fax.tif", save_all=True, append_images=frames[1:])
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(files, "time", SimpleNamespace(monotonic=lambda: clock.now))

    lines = [line for line in SAMPLES[0].read_text(encoding="utf-8").splitlines() if line.strip()]
    read = []

    def read_slowly(pages, workers, timeout, keep_images=False):
        clock.now += 100.0 * len(pages)  # each page takes a hundred seconds to read
        read.extend(pages)
        return [ocr.OcrPage("\n".join(lines[5 * len(read) : 5 * len(read) + 5]), 90.0) for _ in pages]

    monkeypatch.setattr(ocr, "ocr_pages", read_slowly)
    doc = read_file(tmp_path / "fax.tif", Limits(max_seconds=250, ocr_workers=1))
    assert len(read) == 3
    assert [page.method for page in doc.pages] == ["ocr", "ocr", "ocr", "skipped", "skipped", "skipped"]
    assert "page 4 non lue : la limite de temps par fichier (--max-seconds) est atteinte" in texts(doc)


def test_an_image_whose_time_is_up_before_its_first_page_says_so():
    pages = [files.SKIPPED, files.SKIPPED]
    with pytest.raises(files.NoText, match="avant la limite de temps par fichier"):
        files.assemble("fax.tif", pages)


def texts(doc) -> list[str]:
    return [warning.text() for warning in doc.warnings]


def pdf_with_image(data: bytes, codec: str, width: int, height: int) -> bytes:
    """A one-page PDF drawing one image stream, its dictionary stating width × height."""
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    image = (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8 /Filter /%s /Length %d >>\nstream\n"
        % (width, height, codec.encode(), len(data))
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
        image + data + b"\nendstream",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def encoded(size: tuple[int, int], kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, kind)
    return buffer.getvalue()


@pytest.mark.parametrize(("codec", "kind"), [("DCTDecode", "JPEG"), ("JPXDecode", "JPEG2000")])
def test_the_pixel_limit_reads_the_size_in_the_image_not_in_the_pdf_dictionary(tmp_path, codec, kind):
    (tmp_path / "menteur.pdf").write_bytes(pdf_with_image(encoded((2000, 1500), kind), codec, 100, 100))
    pdf = pypdfium2.PdfDocument(str(tmp_path / "menteur.pdf"))
    try:
        with pytest.raises(TooLarge, match="image de 2000 × 1500 pixels, au-delà de la limite de 1 millions"):
            page_image(pdf[0], 300, 1_000_000)
    finally:
        pdf.close()


def test_a_jbig2_stream_gives_the_page_size_of_its_page_information_segment():
    from pipeline.read.images import header_size

    # Segment 0, type 48 (page information), no referred segment, page 1, 19 bytes of data.
    segment = struct.pack(">IBBBI", 0, 48, 0, 1, 19) + struct.pack(">IIII", 5000, 7000, 0, 0) + bytes(3)
    assert header_size(segment, "JBIG2Decode") == (5000, 7000)
    striped = struct.pack(">IBBBI", 0, 48, 0, 1, 19) + struct.pack(">IIII", 5000, 0xFFFFFFFF, 0, 0) + bytes(3)
    assert header_size(striped, "JBIG2Decode") == (5000, None)
