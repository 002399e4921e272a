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

SOURCE defaults to the repository root; the exit status is jupyter-book's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lectures"))
import lecture_utils  # noqa: E402

JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
FLAGS = ("--warningiserror", "--keep-going")


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


def main(argv: list[str]) -> int:
    source, options = (argv[0], argv[1:]) if argv and not argv[0].startswith("-") else (ROOT, argv)
    try:
        return run(source, *options).returncode
    except FileNotFoundError as error:
        print(f"site_build.py: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
