"""scripts/site_tools.py: the table of contents read as the site reads it."""

from bs4 import BeautifulSoup

from conftest import HTML, toc_files

NESTED_TOC = """\
format: jb-book
root: intro
parts:
  - caption: One
    chapters:
      - file: a
        sections:
          - file: a1
            sections:
              - file: a1x
          - file: a2
      - url: https://example.org
        title: Elsewhere
      - file: b
  - caption: Two
    chapters:
      - file: c
"""


def test_toc_files_lists_sections_after_their_chapter(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(NESTED_TOC)
    for name in ["intro", "a", "a1", "a1x", "a2", "b", "c"]:
        (tmp_path / f"{name}.md").write_text(f"# {name}\n")
    assert toc_files(toc) == ["intro", "a", "a1", "a1x", "a2", "b", "c"]


def test_toc_files_is_the_order_of_the_sites_next_links(site):
    """The PDF and the tests walk the pages in the order a reader does, following 'next'."""
    order = [toc_files()[0]]
    while True:
        page = HTML / f"{order[-1]}.html"
        link = BeautifulSoup(page.read_text(), "html.parser").select_one("a.right-next")
        if link is None:
            break
        order.append((page.parent / link["href"]).resolve().relative_to(HTML).with_suffix("").as_posix())
    assert order == toc_files()
