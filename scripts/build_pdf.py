"""Print the built site to one PDF for offline reading: _build/pdf/parallel-computing-in-python.pdf

Usage: make pdf   (builds the site first)

Chromium prints every page of the table of contents, in the site's reading order,
with worked solutions unfolded; pypdf joins them and adds a bookmark per page.
The site serves its own MathJax, so each page is printed once MathJax has typeset
it, with no network needed.

Chromium: Debian's /usr/bin/chromium, or else the one `playwright install chromium`
downloads (scripts/site_tools.py).
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright
from pypdf import PdfWriter
from site_tools import CHROMIUM_ARGS, NO_CHROMIUM, chromium_path, serve_directory, toc_files, wait_for_maths

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
OUT = ROOT / "_build" / "pdf"
PDF = OUT / "parallel-computing-in-python.pdf"


def main() -> None:
    if not (HTML / "index.html").exists():
        sys.exit("no built site in _build/html: run `make book` first")
    executable = chromium_path() or sys.exit(NO_CHROMIUM)
    docs = toc_files()
    writer = PdfWriter()
    with serve_directory(HTML) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page()
        for doc in docs:
            page.goto(f"{base}/{doc}.html")
            page.wait_for_load_state("networkidle")
            wait_for_maths(page)
            # Unfold the worked solutions and other dropdowns for print.
            page.evaluate("document.querySelectorAll('button.toggle-button-hidden').forEach(b => b.click())")
            page.emulate_media(media="print")
            page.add_style_tag(content="pre { white-space: pre-wrap !important; word-break: break-all; }")
            part = OUT / "pages" / f"{doc.replace('/', '_')}.pdf"
            part.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(
                path=str(part),
                format="A4",
                print_background=True,
                margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
            )
            start = len(writer.pages)
            writer.append(str(part))
            writer.add_outline_item(title=page.title().split(" — ")[0], page_number=start)
        browser.close()
    with PDF.open("wb") as f:
        writer.write(f)
    print(f"[pdf] {len(writer.pages)} pages from {len(docs)} documents: {PDF.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
