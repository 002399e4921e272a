"""A failing cell or a Sphinx warning fails the build and names the lecture.

Each test builds a one-page book with this repo's _config.yml, in a temporary
folder, with the site's own build command (scripts/site_build.py).
"""

import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import site_build  # noqa: E402

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


def build_one_page(tmp_path, name, body):
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copytree(ROOT / "_ext", tmp_path / "_ext")
    (tmp_path / "_toc.yml").write_text(f"format: jb-book\nroot: {name}\n")
    (tmp_path / f"{name}.md").write_text(HEADER + body)
    result = site_build.run(tmp_path, capture_output=True, text=True, timeout=300)
    return result.returncode, site_build.ANSI.sub("", result.stdout + result.stderr)


def test_every_build_in_the_makefile_uses_the_one_build_command():
    assert "--warningiserror" in site_build.FLAGS
    makefile = (ROOT / "Makefile").read_text()
    assert "jupyter-book build" not in makefile, (
        "the Makefile calls jupyter-book itself instead of scripts/site_build.py"
    )
    steps = subprocess.run(["make", "-n", "book", "book-nosolutions"], cwd=ROOT, capture_output=True, text=True).stdout
    assert steps.count("scripts/site_build.py") == 3, steps


def test_site_build_refuses_a_folder_that_is_not_a_book(tmp_path):
    with pytest.raises(FileNotFoundError, match="no _config.yml"):
        site_build.command(tmp_path)


def test_failure_reports_names_this_builds_reports_only(tmp_path):
    reports = tmp_path / "out" / "_build" / "html" / "reports" / "lectures"
    reports.mkdir(parents=True)
    old, new = reports / "old.err.log", reports / "new.err.log"
    old.write_text("Traceback\nValueError: from an earlier build\n")
    new.write_text("Traceback\n" + "frame\n" * 30 + "ValueError: this build\n")
    import os

    os.utime(old, (1000, 1000))
    summary = site_build.failure_reports(tmp_path / "book", ["--path-output", str(tmp_path / "out")], since=2000)
    assert "html/reports/lectures/new.err.log" in summary and summary.endswith("ValueError: this build"), summary
    assert "earlier build" not in summary and "old.err.log" not in summary
    assert summary.count("frame") < 30  # the end of the traceback, not all of it
    none = site_build.failure_reports(tmp_path / "book", [f"--path-output={tmp_path / 'out'}"], since=1e12)
    assert "with no execution report under" in none, none


@pytest.mark.slow
def test_failing_cell_fails_the_build_and_names_lecture_and_cell(tmp_path):
    body = "# Broken\n\n```{code-cell} ipython3\nx = 1\n```\n\n```{code-cell} ipython3\nraise RuntimeError('boom from cell two')\n```\n"
    returncode, output = build_one_page(tmp_path, "broken_lecture", body)
    assert returncode != 0
    assert "broken_lecture.md: WARNING: Executing notebook failed" in output
    assert "raise RuntimeError('boom from cell two')" in output  # the failing cell's source
    assert "RuntimeError: boom from cell two" in output
    assert list((tmp_path / "_build" / "html" / "reports").glob("*broken_lecture*.log")), "no execution report kept"
    # What the Makefile's build prints last: the lecture's report and the exception that ended it.
    summary = site_build.failure_reports(tmp_path, [], since=0)
    assert "broken_lecture.err.log" in summary and "RuntimeError: boom from cell two" in summary, summary


@pytest.mark.slow
def test_sphinx_warning_fails_the_build(tmp_path):
    body = "# Bad reference\n\nSee {ref}`no-such-label`.\n"
    returncode, output = build_one_page(tmp_path, "bad_ref", body)
    assert returncode != 0
    assert "bad_ref.md" in output and "no-such-label" in output
