"""Page images: taken out of scanned PDFs or decoded from image files within a pixel limit,
then cleaned up for OCR (colour dropout, local threshold, deskew, despeckle, enlarging)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageFilter

from pipeline.errors import TooLarge

# Pixels whose channels differ by more than this are coloured ink (stamps, signatures), not
# text; a pixel is lightened by CHROMA_LIFT grey levels for each level of difference above
# CHROMA_NOISE (what JPEG leaves around black print).
CHROMA = 40
CHROMA_NOISE = 12
CHROMA_LIFT = 3
# Sauvola's local threshold: the neighbourhood's width (inches) and how far below its mean
# (as a share, scaled by how flat it is) a pixel must be to be ink.
SAUVOLA_WINDOW = 0.04
SAUVOLA_K = 0.2
SAUVOLA_REDUCE = 3
# Deskew: angles tried, in degrees, and the resolution the angle is measured at. Tesseract
# follows lines turned by less than MIN_SKEW itself: turning such a page back cost a fifth of a
# second and blurred its letters (an office scan of a seed at 0.45°: F1 0.960 turned, 1.000 not).
MAX_SKEW = 5.0
SKEW_DPI = 75
MIN_SKEW = 0.5
# Specks: ink components of at most this many pixels at 200 dpi (scaled with the square of
# the resolution) are noise; the dot of an i or a full stop is larger.
SPECK_PIXELS = 4
# A row of pixels this dense in ink, and denser by STREAK_EXCESS than the rows around it, is a
# streak left by the scanner, not print.
STREAK_DENSITY = 0.2
STREAK_EXCESS = 0.15
# Pages scanned below this resolution are enlarged to it: Tesseract reads small print better.
OCR_DPI = 300


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


def header_size(data: bytes, codec: str) -> tuple[int | None, int | None] | None:
    """The width and height an encoded image states in its own header (JPEG, JPEG 2000,
    JBIG2), which its decoder follows whatever a PDF's dictionary says; None when the header
    cannot be read (the decoder fails on it too). A JBIG2 page striped to an unknown height
    gives None for it."""
    if codec == "JBIG2Decode":
        return jbig2_size(data)
    import io

    from PIL import Jpeg2KImagePlugin, JpegImagePlugin

    kind = JpegImagePlugin.JpegImageFile if codec == "DCTDecode" else Jpeg2KImagePlugin.Jpeg2KImageFile
    try:
        # The plugin itself reads the header and decodes nothing (Image.open would refuse a
        # huge size in English before it could be told in French).
        with kind(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None


# JBIG2 (ITU T.88, 7.2 and 7.4.8): segment headers, then the page information segment.
JBIG2_PAGE_INFORMATION = 48
JBIG2_UNKNOWN_HEIGHT = 0xFFFFFFFF


def jbig2_size(data: bytes) -> tuple[int | None, int | None] | None:
    """The page size in a JBIG2 stream as PDFs embed it (segments without a file header)."""
    position = 0
    while position + 11 <= len(data):
        number = int.from_bytes(data[position : position + 4], "big")
        flags = data[position + 4]
        position += 5
        referred = data[position] >> 5
        if referred == 7:
            referred = int.from_bytes(data[position : position + 4], "big") & 0x1FFFFFFF
            position += 4 + (referred + 8) // 8
        else:
            position += 1
        position += referred * (1 if number <= 256 else 2 if number <= 65536 else 4)
        position += 4 if flags & 0x40 else 1
        length = int.from_bytes(data[position : position + 4], "big")
        position += 4
        if flags & 0x3F == JBIG2_PAGE_INFORMATION and position + 8 <= len(data):
            width = int.from_bytes(data[position : position + 4], "big")
            height = int.from_bytes(data[position + 4 : position + 8], "big")
            return width, None if height == JBIG2_UNKNOWN_HEIGHT else height
        if length == JBIG2_UNKNOWN_HEIGHT:
            return None
        position += length
    return None


def clean_page(page: PageImage, steps: frozenset[str] | None = None) -> Cleaned:
    """The page as Tesseract reads it best: each step runs where the page needs it."""
    wanted = STEPS if steps is None else steps
    done = []
    image = page.image
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB" if image.mode in ("P", "RGBA", "CMYK", "LA", "PA") else "L")
    if image.mode == "RGB":
        grey, dropped = drop_colour(image) if "colour" in wanted else (None, False)
        if dropped:
            done.append("colour")
        else:
            grey = np.asarray(image.convert("L"))
    else:
        grey = np.asarray(image)
    scanned_bilevel = bilevel(grey)
    if "binarize" in wanted and not scanned_bilevel:
        grey = binarize(grey, page.dpi)
        done.append("binarize")
    # Dropped scan lines come with black-and-white transmission (fax); on grey pages the step
    # cost more than it bought. Before deskew, while a streak is one row.
    if "streaks" in wanted and scanned_bilevel:
        grey, removed = without_streaks(grey)
        if removed:
            done.append("streaks")
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
    image, dpi = Image.fromarray(grey), page.dpi
    if "upscale" in wanted and dpi < OCR_DPI:
        scale = OCR_DPI / dpi
        image, dpi = (
            image.resize((round(image.width * scale), round(image.height * scale)), Image.BICUBIC),
            OCR_DPI,
        )
        done.append("upscale")
    return Cleaned(image, dpi, angle, tuple(done))


STEPS = frozenset({"colour", "binarize", "deskew", "streaks", "despeckle", "upscale"})


def drop_colour(rgb: Image.Image) -> tuple[np.ndarray, bool]:
    """Grey levels with coloured ink (a blue stamp, a signature) lightened by how coloured it is,
    to paper where it is plainly coloured, its faint edges included; black text under it stays
    black, since it is dark in every channel."""
    red, green, blue = rgb.split()
    high = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    low = ImageChops.darker(ImageChops.darker(red, green), blue)
    chroma = np.asarray(ImageChops.subtract(high, low))
    grey = np.asarray(rgb.convert("L"))
    if np.count_nonzero(chroma > CHROMA) < 1e-4 * chroma.size:
        return grey, False
    lift = np.where(chroma > CHROMA_NOISE, chroma.astype(np.uint16) * CHROMA_LIFT, 0)
    return np.minimum(grey + lift, 255).astype(np.uint8), True


def bilevel(grey: np.ndarray) -> bool:
    """A black-and-white page (a fax): nothing to level."""
    sample = grey[::7, ::7]
    return bool(((sample == 0) | (sample == 255)).mean() > 0.99)


def binarize(grey: np.ndarray, dpi: int) -> np.ndarray:
    """Black and white by Sauvola's local threshold on a lightly blurred page: each pixel is ink
    when darker than its neighbourhood's mean by a margin that grows where the neighbourhood is
    flat. Shadows, stripes and faint copies stop defeating one threshold for the whole page;
    the blur keeps paper texture from turning into specks. The neighbourhood's statistics are
    taken at a third of the resolution, which changes little of what they measure and costs a
    ninth."""
    from scipy import ndimage

    blurred = Image.fromarray(grey).filter(ImageFilter.GaussianBlur(dpi / 300))
    small = np.asarray(blurred.reduce(SAUVOLA_REDUCE), np.float32)
    window = max(3, round(SAUVOLA_WINDOW * dpi / SAUVOLA_REDUCE)) | 1
    mean = ndimage.uniform_filter(small, window)
    spread = np.sqrt(np.maximum(ndimage.uniform_filter(small * small, window) - mean * mean, 0))
    threshold = np.clip(mean * (1 + SAUVOLA_K * (spread / 128 - 1)), 0, 255).astype(np.uint8)
    full = np.asarray(Image.fromarray(threshold).resize(blurred.size, Image.BILINEAR))
    return (np.asarray(blurred) > full).astype(np.uint8) * np.uint8(255)


def ink_mask(grey: np.ndarray) -> np.ndarray:
    return grey <= otsu(grey)


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
    """Turned back by the angle, bicubic: a turn by nearest pixels, fifteen times cheaper, left
    jagged letters that Tesseract misread on faxes and skewed pages."""
    return np.asarray(Image.fromarray(grey).rotate(-angle, resample=Image.BICUBIC, fillcolor=255))


def without_streaks(grey: np.ndarray) -> tuple[np.ndarray, int]:
    """Rows of a scan line gone dark (a fax's or a scanner's streak) put back to paper: a row
    much denser in ink than the rows two above and below it loses the pixels that have no ink
    right above or below them, which letters crossing it keep."""
    ink = ink_mask(grey)
    density = ink.mean(axis=1)
    padded = np.pad(density, 2, mode="edge")
    around = np.maximum(padded[:-4], padded[4:])
    rows = np.nonzero((density > STREAK_DENSITY) & (density - around > STREAK_EXCESS))[0]
    if not len(rows):
        return grey, 0
    above = ink[np.maximum(rows - 1, 0)]
    below = ink[np.minimum(rows + 1, len(ink) - 1)]
    lone = ink[rows] & ~above & ~below
    out = grey.copy()
    band = out[rows]
    band[lone] = 255
    out[rows] = band
    return out, int(lone.sum())


def despeckle(grey: np.ndarray, dpi: int) -> tuple[np.ndarray, int]:
    """Ink components too small to be part of a letter (fax and photocopy specks) turned to paper."""
    from scipy import ndimage

    labels, count = ndimage.label(ink_mask(grey), structure=np.ones((3, 3), bool))
    if count == 0:
        return grey, 0
    small = np.bincount(labels.ravel()) <= max(1, round(SPECK_PIXELS * (dpi / 200) ** 2))
    small[0] = False
    removed = small[labels]
    if not removed.any():
        return grey, 0
    out = grey.copy()
    out[removed] = 255
    return out, int(removed.sum())
