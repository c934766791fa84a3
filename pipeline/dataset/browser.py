"""review.html in headless Chromium (Debian's chromium), driven by Playwright: the check that
the page works as the officer uses it, and the screenshot `make review` writes."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
# Without these, Chromium tries networks this machine may not reach, at every start.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL = "sudo apt-get install -y chromium"


class BrowserMissing(RuntimeError):
    """No Chromium, or no Playwright, on this machine."""


@dataclass(frozen=True, slots=True)
class Shot:
    path: Path
    file: str  # the convention whose field was shown
    field: str  # its name as the page shows it
    key: str  # its dotted key
    highlighted: str  # the text marked in the evidence panel


def chromium_path() -> str:
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(f"Chromium introuvable : lancer « {INSTALL} »")


def open_review(page: Page, html: Path, png: Path) -> Shot:
    """Load the page from disk, keep what is to be checked, open the first convention with a
    doubtful field found in the text and click that field; empty names when there is none."""
    page.goto(html.resolve().as_uri())
    page.check("#only-doubtful")
    for section in page.locator(".convention[data-doubtful]").all():
        toggle = section.locator(".toggle")
        if toggle.count() == 0:
            continue
        toggle.click()
        field = section.locator(".field.doubtful[data-evidence]").first
        if field.count():
            field.locator(".name").click()
            key = page.locator("#evidence details code").first.text_content()
            highlighted = page.locator("#evidence mark").first.inner_text()
            file = section.locator(".file").inner_text()
            return Shot(png, file, field.locator(".name").inner_text(), key, highlighted)
        toggle.click()
    return Shot(png, "", "", "", "")


@contextmanager
def browser_page() -> Iterator[Page]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserMissing(
            "Playwright n'est pas installé : lancer « make test » ou « pip install -r requirements-dev.txt »"
        ) from None
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900})
        finally:
            browser.close()


def load_seconds(html: Path) -> float:
    """From opening the page to its list of conventions drawn."""
    with browser_page() as page:
        start = time.perf_counter()
        page.goto(html.resolve().as_uri())
        page.wait_for_selector(".convention")
        return time.perf_counter() - start


def screenshot_review(html: Path, png: Path) -> Shot:
    with browser_page() as page:
        shot = open_review(page, html, png)
        page.screenshot(path=str(png))
    return shot
