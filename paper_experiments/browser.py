"""Open built pages in headless Chromium and check what a reader sees: typeset math, loaded figures, a clean console.

Uses the system's ``chromium`` and ``chromedriver`` (Debian: ``apt-get install chromium chromium-driver``) through
selenium, with the driver path given explicitly so that nothing is downloaded. Pages are opened from the file system
(``file://``), as a reader of the offline book does.

Two console errors come from the book's theme itself and are not ours to fix; they are listed in
:data:`THEME_CONSOLE_ERRORS` and reported separately (jupyter-book 1.x registers sphinx-thebe's configuration script
twice on every page, and pydata-sphinx-theme logs its first choice of colour mode as an error when no mode is stored).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

THEME_CONSOLE_ERRORS = (
    "Identifier 'THEBE_JS_URL' has already been declared",
    "Got invalid theme mode",
)
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)


def find_browser() -> tuple[str, str] | None:
    """``(browser, driver)`` executables on the PATH, or ``None`` when either is missing."""
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    driver = next((p for p in map(shutil.which, DRIVERS) if p), None)
    return (browser, driver) if browser and driver else None


@dataclass
class PageCheck:
    """What one page showed: ``math`` (typeset formulas), ``untypeset`` (math elements left as TeX), ``raw_dollars``
    (``$$`` in the visible text), ``images`` and ``broken_images`` (sources with ``naturalWidth == 0``),
    ``console_errors`` (severe messages, theme messages excluded), ``theme_errors`` and ``wide_tables`` (tables whose
    right edge runs past the text column at the 1280 px window)."""

    page: str
    math: int = 0
    untypeset: int = 0
    raw_dollars: bool = False
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    theme_errors: list[str] = field(default_factory=list)
    wide_tables: int = 0

    @property
    def ok(self) -> bool:
        return not (self.untypeset or self.raw_dollars or self.broken_images or self.console_errors
                    or self.wide_tables)


_WAIT_MATH = """
const limit = arguments[0], done = arguments[arguments.length - 1];
const start = Date.now();
if (!document.querySelector('.math')) { done(true); return; }
(function poll() {
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) { mj.startup.promise.then(() => done(true), () => done(false)); return; }
  if (Date.now() - start > limit) { done(false); return; }
  setTimeout(poll, 50);
})();
"""
_INSPECT = """
window.scrollTo(0, document.body.scrollHeight);
const math = document.querySelectorAll('mjx-container').length;
const untypeset = Array.from(document.querySelectorAll('.math')).filter(e => !e.querySelector('mjx-container')).length;
const imgs = Array.from(document.images);
const column = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
const right = column.getBoundingClientRect().right;
const wide = Array.from(document.querySelectorAll('table')).filter(t => t.getBoundingClientRect().right > right + 1);
return {math: math, untypeset: untypeset, raw: document.body.innerText.includes('$$'), images: imgs.length,
        broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src), wide: wide.length};
"""


def check_pages(pages: list[Path], *, screenshots: dict[Path, Path] | None = None, timeout_s: float = 30.0,
                browser: tuple[str, str] | None = None) -> list[PageCheck]:
    """Open every page, wait for MathJax (at most ``timeout_s``), and inspect it; save a PNG screenshot of the pages
    named in ``screenshots`` (page -> file). Raises ``RuntimeError`` when no browser is installed."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = browser or find_browser()
    if found is None:
        raise RuntimeError("no chromium/chromedriver on the PATH; apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                "--window-size=1280,1600"):
        options.add_argument(arg)
    options.binary_location = found[0]
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    driver.set_script_timeout(timeout_s + 5)
    results = []
    try:
        for page in pages:
            driver.get(Path(page).resolve().as_uri())
            driver.execute_async_script(_WAIT_MATH, int(timeout_s * 1000))
            time.sleep(0.2)  # let the last images decode
            if screenshots and page in screenshots:  # the top of the page: title and first formulas
                screenshots[page].parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(screenshots[page]))
            info = driver.execute_script(_INSPECT)
            check = PageCheck(str(page), info["math"], info["untypeset"], bool(info["raw"]), info["images"],
                              list(info["broken"]), wide_tables=int(info["wide"]))
            for entry in driver.get_log("browser"):
                if entry.get("level") != "SEVERE":
                    continue
                message = entry.get("message", "")
                target = check.theme_errors if any(t in message for t in THEME_CONSOLE_ERRORS) else check.console_errors
                target.append(message)
            results.append(check)
    finally:
        driver.quit()
    return results
