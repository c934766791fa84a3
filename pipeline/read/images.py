"""Page images: taken out of scanned PDFs or decoded from image files within a pixel limit,
then cleaned up for OCR (colour dropout, background levelling, deskew, despeckle)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from pipeline.errors import TooLarge

# Pixels whose channels differ by more than this are coloured ink (stamps, signatures), not text.
CHROMA = 60
# Background levelling: the paper's brightness is estimated on blocks this wide (in inches).
BACKGROUND_INCH = 0.12
# Deskew: angles tried, in degrees, and the resolution the angle is measured at.
MAX_SKEW = 5.0
SKEW_DPI = 75
MIN_SKEW = 0.15
# Specks: ink components of at most this many pixels at 200 dpi (scaled with the square of
# the resolution) are noise, as long as no other ink lies within SPECK_ROOM inches.
SPECK_PIXELS = 4
SPECK_ROOM = 0.03


@dataclass(frozen=True, slots=True)
class PageImage:
    image: Image.Image  # "L" (grey) or "RGB"
    dpi: int


@dataclass(frozen=True, slots=True)
class Cleaned:
    image: Image.Image  # grey, ready for OCR
    dpi: int
    skew: float  # degrees the page was turned back by
    steps: tuple[str, ...]  # the clean-up steps applied


def too_many_pixels(width: int, height: int, limit: int, what: str) -> TooLarge:
    return TooLarge(
        f"{what} de {width} × {height} pixels, au-delà de la limite de {limit / 1e6:g} millions de pixels"
        " (--max-pixels)"
    )


def check_pixels(width: int, height: int, limit: int, what: str = "image") -> None:
    if width * height > limit:
        raise too_many_pixels(width, height, limit, what)


def clean_page(page: PageImage, steps: frozenset[str] | None = None) -> Cleaned:
    """The page as Tesseract reads it best: each step runs where the page needs it."""
    wanted = STEPS if steps is None else steps
    done = []
    image = page.image
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB" if image.mode in ("P", "RGBA", "CMYK", "LA", "PA") else "L")
    if image.mode == "RGB":
        grey, dropped = drop_colour(np.asarray(image)) if "colour" in wanted else (None, False)
        if dropped:
            done.append("colour")
        else:
            grey = np.asarray(image.convert("L"))
    else:
        grey = np.asarray(image)
    if "background" in wanted and not bilevel(grey):
        grey = level_background(grey, page.dpi)
        done.append("background")
    angle = 0.0
    if "deskew" in wanted:
        angle = skew_angle(grey, page.dpi)
        if abs(angle) >= MIN_SKEW:
            grey = rotate(grey, angle)
            done.append("deskew")
        else:
            angle = 0.0
    if "despeckle" in wanted:
        grey, removed = despeckle(grey, page.dpi)
        if removed:
            done.append("despeckle")
    return Cleaned(Image.fromarray(grey), page.dpi, angle, tuple(done))


STEPS = frozenset({"colour", "background", "deskew", "despeckle"})


def drop_colour(rgb: np.ndarray) -> tuple[np.ndarray, bool]:
    """Grey levels with coloured ink (a blue stamp, a signature) turned to paper: black text
    under it stays black, since it is dark in every channel."""
    high = rgb.max(axis=2)
    chroma = high - rgb.min(axis=2)
    coloured = chroma > CHROMA
    grey = np.asarray(Image.fromarray(rgb).convert("L")).copy()
    if coloured.mean() < 1e-4:
        return grey, False
    grey[coloured] = 255
    return grey, True


def bilevel(grey: np.ndarray) -> bool:
    """A black-and-white page (a fax): nothing to level."""
    sample = grey[::7, ::7]
    return bool(((sample == 0) | (sample == 255)).mean() > 0.99)


def level_background(grey: np.ndarray, dpi: int) -> np.ndarray:
    """Divide the page by its paper's brightness, so shadows and stripes turn white and the
    ink keeps its contrast: the brightest pixels of each small block, smoothed."""
    from scipy import ndimage

    block = max(4, int(BACKGROUND_INCH * dpi))
    h, w = grey.shape
    small = grey[: h - h % block, : w - w % block].reshape(h // block, block, w // block, block)
    paper = small.max(axis=(1, 3))
    paper = ndimage.median_filter(paper, size=5)
    paper = ndimage.uniform_filter(paper.astype(np.float32), size=3)
    full = np.asarray(Image.fromarray(paper).resize((w, h), Image.BILINEAR), np.float32)
    levelled = grey.astype(np.float32) / np.maximum(full, 1) * 255
    return np.clip(levelled, 0, 255).astype(np.uint8)


def ink_mask(grey: np.ndarray) -> np.ndarray:
    return grey < otsu(grey)


def otsu(grey: np.ndarray) -> int:
    counts = np.bincount(grey[::3, ::3].ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256)
    weight = np.cumsum(counts)
    total = weight[-1]
    mean = np.cumsum(counts * levels)
    between = (mean[-1] * weight - mean * total) ** 2 / np.maximum(weight * (total - weight), 1)
    return int(np.argmax(between))


def skew_angle(grey: np.ndarray, dpi: int) -> float:
    """The text lines' angle, in degrees: the one whose row profile of ink is sharpest."""
    step = max(1, round(dpi / SKEW_DPI))
    small = grey[::step, ::step]
    ys, xs = np.nonzero(ink_mask(small))
    if len(ys) < 200:
        return 0.0
    xs = xs - small.shape[1] / 2

    def sharpness(angle: float) -> float:
        rows = ys + xs * np.tan(np.radians(angle))
        profile = np.bincount(np.round(rows - rows.min()).astype(np.int64))
        return float(np.square(profile, dtype=np.float64).sum())

    coarse = max(np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 0.5), key=sharpness)
    return float(max(np.arange(coarse - 0.5, coarse + 0.51, 0.05), key=sharpness))


def rotate(grey: np.ndarray, angle: float) -> np.ndarray:
    image = Image.fromarray(grey).rotate(-angle, resample=Image.BICUBIC, fillcolor=255)
    return np.asarray(image)


def despeckle(grey: np.ndarray, dpi: int) -> tuple[np.ndarray, int]:
    """Small isolated ink components (fax and photocopy specks) turned to paper; dots of
    letters stay, as they sit next to their letter."""
    from scipy import ndimage

    ink = ink_mask(grey)
    labels, count = ndimage.label(ink, structure=np.ones((3, 3), bool))
    if count == 0:
        return grey, 0
    sizes = np.bincount(labels.ravel())
    small = sizes <= max(1, round(SPECK_PIXELS * (dpi / 200) ** 2))
    small[0] = False
    specks = small[labels]
    room = max(1, round(SPECK_ROOM * dpi))
    rest = ink & ~specks
    near = ndimage.maximum_filter(rest.view(np.uint8), size=2 * room + 1).view(bool)
    removed = specks & ~near
    if not removed.any():
        return grey, 0
    out = grey.copy()
    out[removed] = 255
    return out, int(removed.sum())
