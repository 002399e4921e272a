"""`make pdf` prints the whole site to one PDF: every page in order, maths typeset, solutions shown."""

import subprocess

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from conftest import HTML, ROOT, toc_files

PDF = ROOT / "_build" / "pdf" / "parallel-computing-in-python.pdf"


@pytest.fixture(scope="module")
def pdf(site):
    result = subprocess.run(["make", "pdf"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return PdfReader(PDF)


def title(doc):
    return BeautifulSoup((HTML / f"{doc}.html").read_text(), "html.parser").h1.get_text().rstrip("#").strip()


@pytest.mark.slow
def test_every_page_is_in_the_pdf_in_order(pdf):
    assert [item.title for item in pdf.outline] == [title(doc) for doc in toc_files()]
    assert len(pdf.pages) > len(toc_files())


@pytest.mark.slow
def test_maths_is_typeset_and_solutions_are_shown(pdf):
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "\\frac{" not in text and "$$" not in text, "raw TeX in the PDF: MathJax did not typeset"
    assert text.count("Solution to") >= 2
