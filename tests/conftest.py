"""Shared paths and fixtures. `make test` builds the site before pytest runs."""

import ast
import functools
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Every lecture must execute within this many seconds on the 2-core build machine (tests/test_lectures.py).
LECTURE_SECONDS_LIMIT = 180
HTML = ROOT / "_build" / "html"
EXECUTED = ROOT / "_build" / "jupyter_execute"
EXECUTION_CACHE = ROOT / "_build" / ".jupyter_cache"

sys.path.insert(0, str(ROOT / "lectures"))
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "scripts"))
# The toc reading and the loopback server, shared with scripts/build_pdf.py; the tests import them from here.
from site_tools import serve_directory, toc_files  # noqa: E402, F401

# Which documents are lectures with code: the rule _ext/notebooks.py applies.
from notebooks import is_notebook  # noqa: E402


def lectures_with_code() -> list[str]:
    """Documents in the toc that are notebooks (have a jupytext header)."""
    return [f for f in toc_files() if is_notebook(ROOT, f)]


@pytest.fixture(scope="session")
def site() -> Path:
    if not (HTML / "index.html").exists():
        pytest.fail("no built site in _build/html: run `make test`, which builds it first")
    return HTML


def joined(value) -> str:
    """Notebook text fields are a string or a list of lines."""
    return value if isinstance(value, str) else "".join(value)


# --- any notebook cell (a dict), executed or synthetic ---------------------------


def source(cell: dict) -> str:
    return joined(cell["source"])


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def text_output(cell: dict) -> str:
    """What the cell printed and showed as text: its streams (stdout and stderr) and
    the text/plain of its results and displays. Values glued for the page are kept
    under another mime type by myst-nb and are not part of it."""
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(joined(out["text"]))
        elif out["output_type"] in ("execute_result", "display_data"):
            parts.append(joined(out["data"].get("text/plain", "")))
    return "".join(parts)


def stderr(cell: dict) -> str:
    """What the cell wrote to stderr."""
    return "".join(
        joined(out["text"])
        for out in cell.get("outputs", [])
        if out["output_type"] == "stream" and out["name"] == "stderr"
    )


@functools.cache
def _execution_cache():
    from jupyter_cache import get_cache

    return get_cache(EXECUTION_CACHE)


class Lecture:
    """One lecture as the site build ran it: its source, its executed notebook and what it glued.

    Get one from the `lecture` fixture: `lecture("choosing")`. The notebook and
    the glued values are read on first use. For one cell, use the functions
    source, tags, text_output and stderr of this module.
    """

    def __init__(self, name: str):
        self.name = name
        self.path = ROOT / "lectures" / f"{name}.md"
        assert self.path.exists(), f"no lecture {name!r}: {self.path.relative_to(ROOT)} does not exist"

    def __repr__(self) -> str:
        return f"Lecture({self.name!r})"

    @functools.cached_property
    def source(self) -> str:
        """The lecture's MyST markdown text."""
        return self.path.read_text()

    @functools.cached_property
    def notebook(self) -> dict:
        """The executed notebook (with outputs) as a dict.

        Read from the execution cache: when a lecture comes from the cache,
        myst-nb writes its copy in _build/jupyter_execute without outputs. The
        cache is searched for the lecture's code as it is now, so an older
        version that executed does not stand in for one that failed.
        """
        import jupytext

        notebook = jupytext.reads(self.source, fmt="myst")
        if notebook.metadata.get("mystnb", {}).get("execution_mode") == "force":
            # Executed on every build, never cached (the status page): myst-nb's own copy has the outputs.
            executed = EXECUTED / "lectures" / f"{self.name}.ipynb"
            assert executed.exists(), f"{executed.relative_to(ROOT)} missing: {self.name!r} did not execute"
            return json.loads(executed.read_text())
        cache = _execution_cache()
        try:
            record = cache.match_cache_notebook(notebook)
        except KeyError:
            pytest.fail(f"lecture {self.name!r}, as it is now, is not in the execution cache: it did not execute")
        return json.loads(json.dumps(cache.get_cache_bundle(record.pk).nb))

    @functools.cached_property
    def execution_seconds(self) -> float:
        """How long the site build took to execute the lecture, as the execution cache recorded it."""
        import jupytext

        notebook = jupytext.reads(self.source, fmt="myst")
        try:
            record = _execution_cache().match_cache_notebook(notebook)
        except KeyError:
            pytest.fail(f"lecture {self.name!r}, as it is now, is not in the execution cache: it did not execute")
        return float(record.data["execution_seconds"])

    @functools.cached_property
    def glued(self) -> dict:
        """{name: value} of everything the executed lecture glued ({} if it glued nothing).

        Numbers, dicts and other literals come back as Python values, strings as
        strings, figures as their text summary ('<Figure size ...>').
        """
        path = EXECUTED / "lectures" / f"{self.name}.glue.json"
        if not path.exists():  # myst-nb writes the file only for a lecture that glued something
            assert self.notebook, self.name  # fails if the lecture did not execute
            return {}
        values = {}
        for name, output in json.loads(path.read_text()).items():
            text = joined(output["data"]["text/plain"])
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[name] = text
        return values

    @property
    def code_cells(self) -> list[dict]:
        return [c for c in self.notebook["cells"] if c["cell_type"] == "code"]

    def cells_tagged(self, tag: str) -> list[dict]:
        """The code cells that carry the cell tag `tag`."""
        return [c for c in self.code_cells if tag in tags(c)]

    def cell(self, snippet: str) -> dict:
        """The one code cell whose source contains `snippet`."""
        cells = [c for c in self.code_cells if snippet in source(c)]
        assert len(cells) == 1, f"{self.name}: expected one code cell containing {snippet!r}, found {len(cells)}"
        return cells[0]

    def checked(self, name: str) -> None:
        """Assert that the check cell `name` ran: it ends with `lu.glue("checked-<name>", True)`."""
        flag = self.glued.get(f"checked-{name}")
        assert flag is True, f"{self.name}: checked-{name} was not glued as True (got {flag!r}): the check did not run"


@pytest.fixture(scope="session")
def lecture(site):
    """lecture(name) -> the Lecture called `name` ('choosing'), the same object on every call."""
    return functools.cache(Lecture)


# ---------------------------------------------------------------------------
# Markers (pytest.ini): `browser` follows from the fixtures a test uses, and a test that
# is not marked `slow` but took SLOW_SECONDS or more is listed at the end of the run.
# ---------------------------------------------------------------------------

SLOW_SECONDS = 10.0
_slow_but_unmarked: list[str] = []


def pytest_collection_modifyitems(items):
    for item in items:
        # fixturenames is the whole closure: the browser's `page` requests `browser`; the lecture tests' own
        # `page` fixtures (test_site, test_profiling_scaling) do not, and stay in the fast suite.
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def pytest_runtest_logreport(report):
    if report.when == "call" and report.duration >= SLOW_SECONDS and "slow" not in report.keywords:
        _slow_but_unmarked.append(f"{report.duration:6.1f} s  {report.nodeid}")


def pytest_terminal_summary(terminalreporter):
    if _slow_but_unmarked:
        terminalreporter.section(
            f"not marked slow, but took {SLOW_SECONDS:.0f} s or more: mark them, or make them faster"
        )
        for line in _slow_but_unmarked:
            terminalreporter.write_line(line)
