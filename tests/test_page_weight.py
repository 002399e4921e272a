"""Page weight: what each page costs to load, and images in sensible formats and sizes."""

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from bs4 import BeautifulSoup
from PIL import Image

from conftest import HTML, toc_files

MAX_IMAGE_BYTES = 500_000  # one figure
MAX_IMAGE_PIXELS = 2000  # longest side, at the site's 100 dpi
MAX_PAGE_BYTES = 3_000_000  # the page's HTML plus its own images (theme assets are shared and cached)


def page_images(doc: str) -> list[Path]:
    page = HTML / f"{doc}.html"
    soup = BeautifulSoup(page.read_text(), "html.parser")
    images = []
    for img in soup.find_all("img"):
        src = img.get("src", "")
        if urlparse(src).scheme or src.startswith("data:"):
            continue
        path = (page.parent / unquote(src)).resolve()
        if "_static" not in path.parts:
            images.append(path)
    return images


def test_page_weights(site, capsys):
    rows = []
    for doc in toc_files():
        html = (HTML / f"{doc}.html").stat().st_size
        images = page_images(doc)
        total = html + sum(p.stat().st_size for p in images)
        rows.append((doc, html, len(images), total))
        assert total <= MAX_PAGE_BYTES, f"{doc} weighs {total:,} bytes"
    with capsys.disabled():
        print("\npage weight (HTML + its images, bytes):")
        for doc, html, n, total in rows:
            print(f"  {doc:<32} {total:>10,}  ({html:,} HTML, {n} images)")


@pytest.mark.parametrize("doc", toc_files())
def test_images_are_png_or_svg_of_sensible_size(site, doc):
    for path in page_images(doc):
        assert path.suffix in {".png", ".svg"}, f"{doc}: {path.name} is not PNG or SVG"
        assert path.stat().st_size <= MAX_IMAGE_BYTES, f"{doc}: {path.name} is {path.stat().st_size:,} bytes"
        if path.suffix == ".png":
            with Image.open(path) as image:
                assert max(image.size) <= MAX_IMAGE_PIXELS, f"{doc}: {path.name} is {image.size} pixels"
