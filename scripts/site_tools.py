"""Reading the built site: its pages in order, a loopback server for it, and a browser.

Shared by the tests (tests/conftest.py, tests/test_browser.py) and the PDF printer
(scripts/build_pdf.py), so that both read the same pages in the same order with
the same browser.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright
from sphinx_external_toc.api import FileItem
from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parents[1]

#: Chromium's command-line flags for a headless run on a build machine (no sandbox as root,
#: no GPU, no calls home).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")


def toc_files(toc: Path = ROOT / "_toc.yml") -> list[str]:
    """Every document in the table of contents, in reading order: 'lectures/intro', ...

    Parsed by sphinx-external-toc, as Jupyter Book parses it, so parts, chapters and
    sections all count, each document followed by the ones nested under it.
    """
    site_map = parse_toc_yaml(toc)

    def walk(docname: str) -> Iterator[str]:
        yield docname
        for subtree in site_map[docname].subtrees:
            for item in subtree.items:
                if isinstance(item, FileItem):  # not a glob or an external URL
                    yield from walk(item)

    return list(walk(site_map.root.docname))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging every request to stderr."""

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve a folder over HTTP on loopback; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium_path() -> str | None:
    """Debian's /usr/bin/chromium, or else the Chromium that `playwright install chromium`
    downloaded; None when there is neither."""
    if DEBIAN_CHROMIUM.exists():
        return str(DEBIAN_CHROMIUM)
    with sync_playwright() as p:
        bundled = Path(p.chromium.executable_path)
    return str(bundled) if bundled.exists() else None


NO_CHROMIUM = "no Chromium: apt-get install chromium, or playwright install chromium"


MATHS = "span.math, div.math"  # what Sphinx's mathjax extension wraps each formula in


def wait_for_maths(page, timeout_ms: float = 15_000) -> None:
    """Wait until MathJax has typeset a loaded page, if the page has maths.

    Raises RuntimeError when the page has maths and MathJax does not start, as when
    its script could not be loaded.
    """
    formulas = page.locator(MATHS).count()
    if not formulas:
        return
    try:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=timeout_ms)
    except PlaywrightTimeout:
        raise RuntimeError(
            f"{page.url} has {formulas} formulas, but MathJax did not start "
            f"within {timeout_ms / 1000:g} s: did its script load?"
        ) from None
    page.evaluate("MathJax.startup.promise")
