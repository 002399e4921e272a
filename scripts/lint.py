"""Lint the repository with ruff: the Python files, and the code cells of every lecture.

Usage: .venv/bin/python scripts/lint.py          (``make lint``; part of ``make test`` and ``make test-fast``)
       .venv/bin/python scripts/lint.py --fix    (apply ruff's safe fixes and its formatter to the Python files)

* Python files (scripts, tests, ``_ext``, ``lectures/lecture_utils.py``): ``ruff check`` and
  ``ruff format --check`` with the configuration in ``pyproject.toml``, which editors read too.
* Lectures: each MyST lecture's code cells, read with jupytext (IPython magics become
  comments), are checked with ``ruff check`` and :data:`LECTURE_RULES`. Problems are reported
  at their line in the ``.md`` file. Lecture cells are checked, not reformatted: the formatter
  would undo the column-aligned comments that the lectures use to explain code line by line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
from jupytext.magics import comment_magic

ROOT = Path(__file__).resolve().parents[1]
RUFF = Path(sys.executable).with_name("ruff")

#: ruff options for lecture cells. They stand alone (``--isolated``: pyproject.toml's rules and line
#: length are for the Python files); what is normal in a notebook is allowed.
LECTURE_RULES = [
    "--select",
    "E,W,F",
    # E402: a lecture imports a module in the cell where it is first needed.
    # E501: long lines are left to the reader's screen width, as in the Python files.
    # E703: a trailing semicolon hides a cell's result (a figure's repr, for instance).
    # E731: a one-line helper named with a lambda inside a cell.
    # F811: a later cell redefines a function to show an improved version.
    "--ignore",
    "E402,E501,E703,E731,F811",
    # IPython's `display` is a builtin in a notebook.
    "--config",
    "builtins = ['display']",
]


def lecture_cells(md: Path) -> tuple[str, list[int]]:
    """The lecture's code cells as one Python text, and for each of its lines the line in ``md``."""
    text = md.read_text()
    notebook = jupytext.read(md)
    code, lines, position = [], [], 0
    for cell in notebook.cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        start = text.find(cell.source, position)
        if start < 0:
            raise ValueError(f"{md.name}: a code cell's source was not found in the file (jupytext changed it?)")
        position = start + len(cell.source)
        first_line = text.count("\n", 0, start) + 1
        # Magics (%timeit, %%writefile, !cmd) are commented out, as jupytext does in its Python formats.
        cell_lines = comment_magic(cell.source.splitlines())
        code += ["# %%", *cell_lines, ""]
        lines += [first_line, *range(first_line, first_line + len(cell_lines)), first_line + len(cell_lines)]
    return "\n".join(code) + "\n", lines


def check_lectures(lectures: Path = ROOT / "lectures") -> list[str]:
    """ruff's findings in the lectures' code cells, as 'lectures/NAME.md:LINE:COLUMN: CODE message'."""
    problems = []
    with tempfile.TemporaryDirectory() as folder:
        extracted = {}
        for md in sorted(lectures.glob("*.md")):
            if not md.read_text().startswith("---\njupytext:"):
                continue  # a page without code cells
            code, lines = lecture_cells(md)
            path = Path(folder, md.stem + ".py")
            path.write_text(code)
            extracted[path.name] = (md, lines)
        result = subprocess.run(
            [str(RUFF), "check", "--isolated", "--output-format", "json", *LECTURE_RULES, folder],
            capture_output=True,
            text=True,
        )
        if result.returncode not in (0, 1):
            raise RuntimeError(f"ruff failed on the lecture cells:\n{result.stderr}")
        for item in json.loads(result.stdout):
            md, lines = extracted[Path(item["filename"]).name]
            row = item["location"]["row"]
            problems.append(
                f"{md.relative_to(lectures.parent)}:{lines[row - 1]}:{item['location']['column']}: {item['code']} {item['message']}"
            )
    return problems


def main(argv: list[str]) -> int:
    if argv not in ([], ["--fix"]):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    if argv == ["--fix"]:
        subprocess.run([str(RUFF), "check", "--fix", "--quiet", str(ROOT)])
        subprocess.run([str(RUFF), "format", "--quiet", str(ROOT)])
    failed = False
    for step in (["check", str(ROOT)], ["format", "--check", str(ROOT)]):
        result = subprocess.run([str(RUFF), *step], cwd=ROOT)
        failed |= result.returncode != 0
    problems = check_lectures()
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in lecture code cells (rules: scripts/lint.py LECTURE_RULES)")
    if failed or problems:
        print("lint failed: `make lint-fix` applies ruff's safe fixes and formatter to the Python files")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
