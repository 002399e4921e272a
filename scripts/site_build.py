"""The site's build command, defined once.

Usage: .venv/bin/python scripts/site_build.py [SOURCE] [jupyter-book build options ...]

``make book``, ``make lecture``, the instructors' build, scripts/bench_build.py,
scripts/check_determinism.py and tests/test_build_failures.py all build through
:func:`command` and :func:`environment`, so the flags and the environment that the
lectures see are the same everywhere:

* ``--warningiserror --keep-going``: a Sphinx warning or a failing cell fails the
  build, after every problem has been reported;
* ``LECTURES_SITE_BUILD=1``: ``lecture_utils.glue`` glues values for the page
  instead of showing them (``lecture_utils.in_site_build``);
* ``LECTURES_BUILD_LOAD``: the load average when the build started, which the
  status page reports.

SOURCE defaults to the repository root; the exit status is jupyter-book's.  When the
build fails, the last thing printed is each failing lecture's execution report
(its file and the end of its traceback), so that the cause is at the end of a
long log, where a CI summary shows it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lectures"))
import lecture_utils  # noqa: E402

JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
FLAGS = ("--warningiserror", "--keep-going")
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # terminal control sequences (colours)


def environment() -> dict[str, str]:
    """The process environment of a site build: this one, plus the two variables above."""
    load = " ".join(str(x) for x in os.getloadavg())
    return {**os.environ, lecture_utils.SITE_BUILD_ENV: "1", lecture_utils.BUILD_LOAD_ENV: load}


def command(source: str | os.PathLike = ROOT, *options: str) -> list[str]:
    """The jupyter-book command that builds ``source`` with the site's flags and ``options``."""
    if not Path(source, "_config.yml").is_file():
        raise FileNotFoundError(f"{source} has no _config.yml: not a book to build")
    return [str(JUPYTER_BOOK), "build", str(source), *FLAGS, *options]


def run(source: str | os.PathLike = ROOT, *options: str, **kwargs) -> subprocess.CompletedProcess:
    """Build ``source``; keyword arguments go to :func:`subprocess.run`."""
    return subprocess.run(command(source, *options), env=environment(), **kwargs)


def failure_reports(source: str | os.PathLike, options: tuple[str, ...] | list[str], since: float) -> str:
    """The execution reports that a build of ``source`` with ``options`` wrote after ``since`` (a time).

    myst-nb writes one ``<lecture>.err.log`` per failing notebook under its
    builder's output folder (``_build/html/reports``, ``_build/jupyter/reports``);
    each report ends with its traceback, and is shown here by its last lines,
    terminal colours removed.  Reports older than ``since`` are from an earlier
    build and are left out.
    """
    output = Path(source)
    for i, option in enumerate(options):
        if option.startswith("--path-output="):
            output = Path(option.split("=", 1)[1])
        elif option == "--path-output" and i + 1 < len(options):
            output = Path(options[i + 1])
    build = output / "_build"
    reports = sorted(f for f in build.glob("*/reports/**/*.err.log") if f.stat().st_mtime >= since)
    if not reports:
        return f"BUILD FAILED, with no execution report under {build}/*/reports: the errors above say why."
    parts = ["BUILD FAILED. The lectures whose cells failed, with the end of each traceback:"]
    for report in reports:
        lines = ANSI.sub("", report.read_text(errors="replace")).rstrip().splitlines()
        parts += ["", f"== {report.relative_to(build)}", *lines[-12:]]
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    source, options = (argv[0], argv[1:]) if argv and not argv[0].startswith("-") else (ROOT, argv)
    start = time.time() - 1
    try:
        returncode = run(source, *options).returncode
    except FileNotFoundError as error:
        print(f"site_build.py: {error}", file=sys.stderr)
        return 2
    if returncode:
        print("\n" + failure_reports(source, options, start), flush=True)
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
