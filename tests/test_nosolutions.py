"""`make book-nosolutions` builds the site for instructors: exercises kept, worked solutions gone."""

import subprocess

import pytest
from bs4 import BeautifulSoup

from conftest import HTML, ROOT, lectures_with_code

VARIANT = ROOT / "_build" / "nosolutions" / "_build" / "html"


def counts(path):
    soup = BeautifulSoup(path.read_text(), "html.parser")
    return len(soup.select("div.exercise")), len(soup.select("div.solution"))


@pytest.fixture(scope="module")
def variant(site):
    result = subprocess.run(["make", "book-nosolutions"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return VARIANT


@pytest.mark.slow
@pytest.mark.parametrize("doc", lectures_with_code())
def test_variant_keeps_exercises_and_drops_solutions(variant, doc):
    exercises, solutions = counts(HTML / f"{doc}.html")
    variant_exercises, variant_solutions = counts(variant / f"{doc}.html")
    assert variant_exercises == exercises
    assert variant_solutions == 0
    if exercises:
        assert solutions >= exercises, f"{doc}: the main site should show a solution for every exercise"


@pytest.mark.slow
def test_variant_says_what_it_is(variant):
    assert "without solutions" in (variant / "lectures" / "intro.html").read_text()
