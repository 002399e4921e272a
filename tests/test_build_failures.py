"""A failing cell or a Sphinx warning fails the build and names the lecture.

Each test builds a one-page book with this repo's _config.yml and the flags
from the Makefile, in a temporary folder.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

ANSI = re.compile(r"\x1b\[[0-9;]*m")
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def makefile_flags():
    match = re.search(r"^JB_FLAGS := (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert match, "JB_FLAGS not found in Makefile"
    return match.group(1).split()


def build_one_page(tmp_path, name, body):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copytree(ROOT / "_ext", tmp_path / "_ext")
    (tmp_path / "_toc.yml").write_text(f"format: jb-book\nroot: {name}\n")
    (tmp_path / f"{name}.md").write_text(HEADER + body)
    result = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(tmp_path), *makefile_flags()],
        capture_output=True, text=True, timeout=300, env={**os.environ, "LECTURES_SITE_BUILD": "1"},
    )
    return result.returncode, ANSI.sub("", result.stdout + result.stderr)


def test_makefile_treats_warnings_as_errors():
    assert "--warningiserror" in makefile_flags()


@pytest.mark.slow
def test_failing_cell_fails_the_build_and_names_lecture_and_cell(tmp_path):
    body = "# Broken\n\n```{code-cell} ipython3\nx = 1\n```\n\n```{code-cell} ipython3\nraise RuntimeError('boom from cell two')\n```\n"
    returncode, output = build_one_page(tmp_path, "broken_lecture", body)
    assert returncode != 0
    assert "broken_lecture.md: WARNING: Executing notebook failed" in output
    assert "raise RuntimeError('boom from cell two')" in output  # the failing cell's source
    assert "RuntimeError: boom from cell two" in output
    assert list((tmp_path / "_build" / "html" / "reports").glob("*broken_lecture*.log")), "no execution report kept"


@pytest.mark.slow
def test_sphinx_warning_fails_the_build(tmp_path):
    body = "# Bad reference\n\nSee {ref}`no-such-label`.\n"
    returncode, output = build_one_page(tmp_path, "bad_ref", body)
    assert returncode != 0
    assert "bad_ref.md" in output and "no-such-label" in output
