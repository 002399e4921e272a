"""The NumPy vs Numba vs JAX lecture executed, checked its results, and glued what its prose relies on.

Timings vary from build to build, so these tests check that measured values exist
and are sane, and that the relations the prose states hold, never speed targets.
"""

import math
import re

import pytest

from lecture_utils import format_bytes

LECTURE = "choosing"

POSITIVE = [
    "numpy-peak-arrays", "jax-grid-arrays", "prange-speedup", "prange-efficiency",
    "numpy-busy", "serial-busy", "prange-busy", "jax-busy",
]
TIMES = ["fastest-grid-time", "numba-compile", "prange-compile", "jax-compile", "map-numba-compile", "map-scan-compile"]
SIZES = ["array-bytes", "numpy-peak", "grid-bytes", "jax-grid-memory", "path-bytes"]
COMPARISONS = ["numba-vs-numpy", "jax-vs-numpy", "jax-vs-numba", "scan-vs-numba"]
SENTENCES = ["numba-numpy-sentence", "prange-sentence", "jax-memory-sentence", "break-even-sentence"]
GRID_VERSIONS = ["NumPy, vectorised", "Numba, loop", "Numba, prange", "JAX, jit"]
LOCAL_PATH = re.compile(r"/(tmp|root|home|work|Users)/")
COMPARISON = re.compile(r"^(\d+\.\d times (faster|slower) than|about as fast as \(within 10%\))$")


@pytest.fixture(scope="module")
def values(glued):
    return glued(LECTURE)


@pytest.fixture(scope="module")
def code_cells(executed_notebook):
    return [c for c in executed_notebook(LECTURE)["cells"] if c["cell_type"] == "code"]


def source(cell):
    return "".join(cell["source"])


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def text_output(cell):
    parts = []
    for out in cell["outputs"]:
        if out["output_type"] == "stream":
            parts.append("".join(out["text"]))
        elif out["output_type"] == "execute_result":
            parts.append("".join(out["data"].get("text/plain", "")))
    return "".join(parts)


def the_cell(code_cells, snippet):
    cells = [c for c in code_cells if snippet in source(c)]
    assert len(cells) == 1, f"expected one cell containing {snippet!r}, found {len(cells)}"
    return cells[0]


def test_numbers_exist_and_are_sane(values):
    for name in POSITIVE:
        value = values[name]
        assert isinstance(value, float) and math.isfinite(value) and value > 0, (name, value)
    for name in TIMES:
        assert values[name].split()[-1] in {"s", "ms", "µs", "ns"}, (name, values[name])
    for name in SIZES:
        assert values[name].split()[-1] in {"B", "KiB", "MiB", "GiB"}, (name, values[name])
    for name in COMPARISONS:
        assert COMPARISON.match(values[name]), (name, values[name])
    for name in SENTENCES:
        assert isinstance(values[name], str) and len(values[name]) > 10, name
    assert values["fig-summary"].startswith("<Figure")


def test_sizes_follow_from_the_problem(values):
    n = values["grid-n"]
    steps = int(values["n-steps"].replace(",", ""))
    assert values["array-bytes"] == format_bytes(n * n * 8)
    assert values["grid-bytes"] == format_bytes(n * 8)
    assert values["path-bytes"] == format_bytes((steps + 1) * 8)
    assert values["numpy-peak-arrays"] >= 1  # NumPy holds at least one N x N temporary
    assert values["threads"] >= 1


def test_sentences_follow_the_measurements(values):
    assert values["prange-efficiency"] == pytest.approx(100 * values["prange-speedup"] / values["threads"])
    assert ("Threads paid off" in values["prange-sentence"]) == (values["prange-speedup"] > 1.1)
    assert ("did not fuse everything" in values["jax-memory-sentence"]) == (values["jax-grid-arrays"] >= 0.5)
    assert values["numba-numpy-sentence"].startswith("NumPy writes") == ("faster than" in values["numba-vs-numpy"])
    assert any(values["fastest-grid"].startswith(v) for v in GRID_VERSIONS)
    assert values["paths-identical"] in {"identical, bit for bit",
                                         "equal over the first steps but not over the whole series"}


def test_checks_ran_without_errors_or_stderr(code_cells):
    for cell in code_cells:
        assert cell.get("execution_count") is not None, f"cell did not run:\n{source(cell)[:200]}"
        for out in cell["outputs"]:
            assert out["output_type"] != "error", source(cell)[:200]
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"stderr in cell:\n{source(cell)[:200]}\n{''.join(out['text'])[:500]}")
        assert not LOCAL_PATH.search(text_output(cell)), source(cell)[:200]
    for snippet in [
        "np.testing.assert_allclose(value, reference, rtol=1e-12, err_msg=name)",
        "np.testing.assert_allclose(path_scan[:CHECK_STEPS], path_numba[:CHECK_STEPS], rtol=CHECK_RTOL)",
        "np.testing.assert_allclose(float(t.result), reference, rtol=1e-12, err_msg=version)",
        "np.testing.assert_allclose(grid_max_blocks(grid), grid_max_numba(grid), rtol=1e-12)",
    ]:
        assert [c for c in code_cells if snippet in source(c)], f"no cell contains {snippet!r}"


def test_reference_maximum(code_cells):
    out = text_output(the_cell(code_cells, "reference = grid_max_numpy(grid)"))
    maximum = float(re.search(r"grid maximum np\.float64\(([0-9.e+-]+)\)", out).group(1))
    assert maximum == pytest.approx(1.0, abs=1e-4) and maximum < 1.0  # even N: origin not on the grid


def test_summary_table_has_every_version(code_cells):
    out = text_output(the_cell(code_cells, "runs = ["))
    for version in GRID_VERSIONS + ["lax.scan"]:
        assert version in out, version
    for column in ["median", "first call", "compile", "busy cores", "extra memory"]:
        assert column in out, column


def test_timing_cells_are_tagged(code_cells):
    """Cells that time something show timing-dependent output: the determinism check must skip them."""
    for cell in code_cells:
        times_something = "lu.timeit(" in source(cell) or "lu.format_time(" in source(cell)
        if times_something and cell["outputs"]:
            assert "timing" in tags(cell), f"untagged timing cell:\n{source(cell)[:200]}"
    assert "timing" not in tags(the_cell(code_cells, "reference = grid_max_numpy(grid)"))


def test_exercise_solutions_ran(code_cells):
    small = text_output(the_cell(code_cells, "small = np.linspace(-A, A, SMALL_N)"))
    assert "fastest on the" in small and "calls to break even" in small
    blocks = text_output(the_cell(code_cells, "block_timings = ["))
    assert "fastest: NumPy" in blocks and "peak memory" in blocks
