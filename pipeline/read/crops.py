"""Crops of the page image around each value read by OCR, so a reviewer sees the scan itself."""

from __future__ import annotations

import base64
import io

from PIL import Image

from pipeline.model import Document

# Room around the evidence's words, in line heights, and the crop's largest width in pixels.
PAD_LINES = 0.6
MAX_WIDTH = 700
QUALITY = 55


def page_crops(doc: Document, evidence: dict[str, dict]) -> dict[str, dict]:
    """For each evidence key whose text was read by OCR: the page, the region of the page its
    words cover (left, top, right, bottom as fractions of the page) and a small grey JPEG of it
    as a data URI."""
    previews: dict[int, Image.Image] = {}
    crops = {}
    for key, entry in evidence.items():
        scan = doc.scans.get(entry.get("page"))
        if scan is None or entry.get("start") is None:
            continue
        page_start = doc.pages[entry["page"] - 1].start
        start, end = entry["start"] - page_start, entry["end"] - page_start
        boxes = [word.box for word in scan.words if word.start < end and word.end > start]
        if not boxes:
            continue
        if entry["page"] not in previews:
            previews[entry["page"]] = Image.open(io.BytesIO(scan.preview))
        crops[key] = crop(previews[entry["page"]], boxes, scan.size, entry["page"])
    return crops


def crop(
    preview: Image.Image, boxes: list[tuple[int, int, int, int]], size: tuple[int, int], page: int
) -> dict:
    width, height = size
    pad = PAD_LINES * max(bottom - top for _, top, _, bottom in boxes)
    left = max(0, min(b[0] for b in boxes) - pad)
    top = max(0, min(b[1] for b in boxes) - pad)
    right = min(width, max(b[2] for b in boxes) + pad)
    bottom = min(height, max(b[3] for b in boxes) + pad)
    scale = preview.width / width
    image = preview.crop(
        (round(left * scale), round(top * scale), round(right * scale), round(bottom * scale))
    )
    if image.width > MAX_WIDTH:
        image = image.resize(
            (MAX_WIDTH, max(1, round(image.height * MAX_WIDTH / image.width))), Image.BILINEAR
        )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY)
    return {
        "page": page,
        "bbox": [
            round(left / width, 4),
            round(top / height, 4),
            round(right / width, 4),
            round(bottom / height, 4),
        ],
        "image": "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii"),
    }
