"""The web page as a patient sees it: Debian's Chromium, on a phone (320 px) and a computer (1280 px),
in light and dark mode. Used by the browser tests and by `make` to save screenshots under output/.

    python -m pipeline.screenshots output/NAME [output/screenshots]

Never downloads a browser: Playwright drives the system's /usr/bin/chromium. The page is served
from 127.0.0.1 by Python's http.server, as a reader's browser would load it.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .config import setting

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
WIDTHS = {"phone": 320, "desktop": 1280}
SCHEMES = ("light", "dark")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves one folder without logging every request to the terminal."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
        """Say nothing."""


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """The folder on http://127.0.0.1:PORT/ for as long as the block runs."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium() -> Iterator[object]:
    """A headless system Chromium under Playwright (a playwright Browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=setting("chromium"), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def save(page_dir: Path, target: Path, browser: object | None = None) -> list[Path]:
    """Full-page screenshots of page_dir/index.html at 320 and 1280 px, light and dark, into target.

    Pass a running Playwright browser to reuse it (one sync Playwright per thread at a time)."""
    if browser is None:
        with chromium() as own:
            return save(page_dir, target, own)
    target.mkdir(parents=True, exist_ok=True)
    name = Path(page_dir).resolve().name
    saved: list[Path] = []
    with served(Path(page_dir)) as url:
        for device, width in WIDTHS.items():
            for scheme in SCHEMES:
                context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
                page = context.new_page()
                page.goto(url + "index.html", wait_until="load")
                page.evaluate("document.fonts.ready.then(() => true)")
                path = target / f"{name}-{device}-{width}-{scheme}.png"
                page.screenshot(path=str(path), full_page=True)
                saved.append(path)
                context.close()
    return saved


def main(argv: list[str]) -> int:
    """Save the four screenshots of a built page."""
    if not argv or len(argv) > 2:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    page_dir = Path(argv[0])
    target = Path(argv[1]) if len(argv) == 2 else page_dir.parent / "screenshots"
    for path in save(page_dir, target):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
