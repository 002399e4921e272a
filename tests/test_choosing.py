"""The NumPy vs Numba vs JAX lecture checked its results and glued what its prose relies on.

tests/test_lectures.py checks what every lecture must do (it ran without errors or
stderr, timing cells are tagged, ...); this file checks what this lecture claims.
Timings vary from build to build, so these tests check that measured values exist
and are sane, and that the relations the prose states hold, never speed targets.
"""

import math
import re

import pytest

from conftest import source, tags, text_output
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
COMPARISON = re.compile(r"^(\d+\.\d times (faster|slower) than|about as fast as \(within 10%\))$")


def test_numbers_exist_and_are_sane(lecture):
    values = lecture(LECTURE).glued
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


def test_sizes_follow_from_the_problem(lecture):
    values = lecture(LECTURE).glued
    n = values["grid-n"]
    steps = int(values["n-steps"].replace(",", ""))
    assert values["array-bytes"] == format_bytes(n * n * 8)
    assert values["grid-bytes"] == format_bytes(n * 8)
    assert values["path-bytes"] == format_bytes((steps + 1) * 8)
    assert values["numpy-peak-arrays"] >= 1  # NumPy holds at least one N x N temporary
    assert values["threads"] >= 1


def test_sentences_follow_the_measurements(lecture):
    values = lecture(LECTURE).glued
    assert values["prange-efficiency"] == pytest.approx(100 * values["prange-speedup"] / values["threads"])
    assert ("Threads paid off" in values["prange-sentence"]) == (values["prange-speedup"] > 1.1)
    assert ("did not fuse everything" in values["jax-memory-sentence"]) == (values["jax-grid-arrays"] >= 0.5)
    assert values["numba-numpy-sentence"].startswith("NumPy writes") == ("faster than" in values["numba-vs-numpy"])
    assert any(values["fastest-grid"].startswith(v) for v in GRID_VERSIONS)
    assert values["paths-identical"] in {"identical, bit for bit",
                                         "equal over the first steps but not over the whole series"}


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results against a reference are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "np.testing.assert_allclose(value, reference, rtol=1e-12, err_msg=name)",
        "np.testing.assert_allclose(path_scan[:CHECK_STEPS], path_numba[:CHECK_STEPS], rtol=CHECK_RTOL)",
        "np.testing.assert_allclose(float(t.result), reference, rtol=1e-12, err_msg=version)",
        "np.testing.assert_allclose(grid_max_blocks(grid), grid_max_numba(grid), rtol=1e-12)",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_reference_maximum(lecture):
    out = text_output(lecture(LECTURE).cell("reference = grid_max_numpy(grid)"))
    maximum = float(re.search(r"grid maximum np\.float64\(([0-9.e+-]+)\)", out).group(1))
    assert maximum == pytest.approx(1.0, abs=1e-4) and maximum < 1.0  # even N: origin not on the grid


def test_summary_table_has_every_version(lecture):
    out = text_output(lecture(LECTURE).cell("runs = ["))
    for version in GRID_VERSIONS + ["lax.scan"]:
        assert version in out, version
    for column in ["median", "first call", "compile", "busy cores", "extra memory"]:
        assert column in out, column


def test_reference_maximum_is_compared_between_builds(lecture):
    """Not tagged timing, so `make check-determinism` compares it."""
    assert "timing" not in tags(lecture(LECTURE).cell("reference = grid_max_numpy(grid)"))


def test_exercise_solutions_ran(lecture):
    small = text_output(lecture(LECTURE).cell("small = np.linspace(-A, A, SMALL_N)"))
    assert "fastest on the" in small and "calls to break even" in small
    blocks = text_output(lecture(LECTURE).cell("block_timings = ["))
    assert "fastest: NumPy" in blocks and "peak memory" in blocks
