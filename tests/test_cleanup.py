"""The image clean-up before OCR runs each step only where the page needs it."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.synth import FONT_FILE
from pipeline.read.images import PageImage, clean_page


def printed_page(dpi: int = 300, turned: float = 0.0) -> Image.Image:
    """A grey page of lines of print, turned by the angle (degrees)."""
    scale = dpi / 300
    page = Image.new("L", (round(2480 * scale), round(3500 * scale)), 225)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT_FILE, round(42 * scale))
    for row in range(40):
        line = f"Article {row} : le délégataire exécute les dépenses du programme 0148."
        draw.text((200 * scale, (200 + 75 * row) * scale), line, font=font, fill=30)
    return page.rotate(turned, resample=Image.BICUBIC, fillcolor=225)


def test_a_page_turned_by_a_quarter_degree_is_read_as_it_is():
    assert "deskew" not in clean_page(PageImage(printed_page(turned=0.25), 300)).steps


def test_a_page_turned_by_two_degrees_is_turned_back():
    cleaned = clean_page(PageImage(printed_page(turned=2.0), 300))
    assert "deskew" in cleaned.steps
    assert abs(cleaned.skew - 2.0) < 0.2


def test_a_grey_page_is_levelled_to_black_and_white_at_its_own_resolution():
    cleaned = clean_page(PageImage(printed_page(), 300))
    assert cleaned.steps == ("binarize",)
    assert set(np.unique(np.asarray(cleaned.image))) == {0, 255}
    assert cleaned.dpi == 300
