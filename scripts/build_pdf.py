"""Print the built site to one PDF for offline reading: _build/pdf/parallel-computing-in-python.pdf

Usage: make pdf   (builds the site first)

Chromium prints every page of the table of contents, in order, with worked
solutions unfolded; pypdf joins them and adds a bookmark per page. The pages
load MathJax from a CDN, which a build machine may not reach, so the browser is
served MathJax from its npm package instead (`npm pack`, cached in _build/pdf),
and each page is printed only after MathJax has typeset it.

Chromium: Debian's /usr/bin/chromium, or else the one `playwright install chromium`
downloads. npm is needed once, to fetch MathJax.
"""

import functools
import http.server
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import yaml
from playwright.sync_api import sync_playwright
from pypdf import PdfWriter

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
OUT = ROOT / "_build" / "pdf"
PDF = OUT / "parallel-computing-in-python.pdf"
MATHJAX_VERSION = "3.2.2"
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    return files


def mathjax_dir() -> Path:
    """MathJax's files from its npm package, fetched once."""
    package = OUT / "mathjax" / "package"
    if not (package / "es5" / "tex-mml-chtml.js").exists():
        (OUT / "mathjax").mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", f"mathjax@{MATHJAX_VERSION}", "--silent"], cwd=OUT / "mathjax", check=True,
                       stdout=subprocess.DEVNULL)
        with tarfile.open(OUT / "mathjax" / f"mathjax-{MATHJAX_VERSION}.tgz") as archive:
            archive.extractall(OUT / "mathjax", filter="data")
    return package


def chromium() -> str:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    with sync_playwright() as p:
        bundled = Path(p.chromium.executable_path)
    if not bundled.exists():
        sys.exit("no Chromium: apt-get install chromium, or playwright install chromium")
    return str(bundled)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main() -> None:
    if not (HTML / "index.html").exists():
        sys.exit("no built site in _build/html: run `make book` first")
    mathjax = mathjax_dir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(HTML)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def serve_mathjax(route):
        path = mathjax / route.request.url.removeprefix(MATHJAX_CDN)
        if path.is_file():
            route.fulfill(path=str(path))
        else:
            route.abort()

    writer = PdfWriter()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=FLAGS)
            page = browser.new_page()
            page.route(f"{MATHJAX_CDN}**", serve_mathjax)
            for doc in toc_files():
                page.goto(f"{base}/{doc}.html")
                page.wait_for_load_state("networkidle")
                if page.locator("script[src*='mathjax']").count():  # Sphinx adds it only where there is maths
                    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
                    page.evaluate("MathJax.startup.promise")
                # Unfold the worked solutions and other dropdowns for print.
                page.evaluate("document.querySelectorAll('button.toggle-button-hidden').forEach(b => b.click())")
                page.emulate_media(media="print")
                page.add_style_tag(content="pre { white-space: pre-wrap !important; word-break: break-all; }")
                part = OUT / "pages" / f"{doc.replace('/', '_')}.pdf"
                part.parent.mkdir(parents=True, exist_ok=True)
                page.pdf(path=str(part), format="A4", print_background=True,
                         margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
                start = len(writer.pages)
                writer.append(str(part))
                writer.add_outline_item(title=page.title().split(" — ")[0], page_number=start)
            browser.close()
    finally:
        server.shutdown()
    with PDF.open("wb") as f:
        writer.write(f)
    print(f"[pdf] {len(writer.pages)} pages from {len(toc_files())} documents: {PDF.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
