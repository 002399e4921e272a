"""scripts/lint.py reports ruff's findings in lecture cells at their line in the .md file."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import lint  # noqa: E402

HEADER = "---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\n---\n"


def write_lecture(folder, body):
    (folder / "lectures").mkdir()
    path = folder / "lectures" / "demo.md"
    path.write_text(HEADER + body)
    return path


def test_an_undefined_name_is_reported_at_its_line_in_the_lecture(tmp_path):
    body = (
        "# Demo\n\n```{code-cell} ipython3\nimport numpy as np\nx = np.ones(3)\n```\n\nText.\n\n"
        "```{code-cell} ipython3\n:tags: [hide-input]\n\n%timeit x.sum()\ny = x + undefined_name\n```\n"
    )
    path = write_lecture(tmp_path, body)
    line = path.read_text().splitlines().index("y = x + undefined_name") + 1
    problems = lint.check_lectures(tmp_path / "lectures")
    assert problems == [f"lectures/demo.md:{line}:9: F821 Undefined name `undefined_name`"]


def test_what_is_normal_in_a_notebook_passes(tmp_path):
    # Magics, an import in a later cell, a trailing semicolon, display() and a redefined function.
    body = (
        "```{code-cell} ipython3\n%%time\ndef f():\n    return 1\n```\n\n"
        "```{code-cell} ipython3\nimport math\n\ndef f():\n    return math.pi\n\ndisplay(f());\n!echo done\n```\n"
    )
    write_lecture(tmp_path, body)
    assert lint.check_lectures(tmp_path / "lectures") == []


def test_bad_arguments_get_the_usage():
    assert lint.main(["--fixx"]) == 2
