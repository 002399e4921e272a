"""The first lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records.
"""

import pytest

LECTURE = "first_measurement"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def test_reference_maximum_is_checked_and_correct(lecture):
    cell = lecture(LECTURE).cell("reference = grid_max_python(grid)")
    (output,) = [o for o in cell["outputs"] if o["output_type"] == "execute_result"]
    maximum = float("".join(output["data"]["text/plain"]).removeprefix("np.float64(").rstrip(")"))
    assert maximum == pytest.approx(1.0, abs=1e-4) and maximum < 1.0  # even N: origin not on the grid


def test_figures_exist(values):
    for figure in ["fig-surface", "fig-runs", "fig-three-versions"]:
        assert values[figure].startswith("<Figure"), figure


def test_runs_summary_is_consistent(values):
    assert values["runs-count"] == 30
    assert values["runs-max-over-min"] >= 1 and values["runs-spread"] >= 0


def test_compiled_versions_beat_the_python_loop(values):
    # "Moving the loop out of the interpreter ... makes it much faster even on one core."
    for name in ["numpy-vs-python", "numba-vs-python"]:
        assert values[f"{name}-verdict"]["verdict"] == "faster", values[name]
        assert values[f"{name}-verdict"]["low"] > 5, values[name]


def test_why_numba_beats_numpy_is_measured(values):
    # "So Numba ran ... as fast as NumPy, and what separates them is the work NumPy does outside the cosine."
    assert values["numba-vs-numpy-verdict"]["verdict"] == "faster", values["numba-vs-numpy"]
    # "NumPy spends X % of its time in the cosine. The rest goes to its other passes over memory."
    assert values["cos-share-low"] <= values["cos-share"] <= values["cos-share-high"] < 100
    # "much of the compiled versions' time is the cosine itself"; "without the cosine the loop is much faster"
    assert values["cos-share"] > 33 and values["numba-cos-share"] > 50
    # "the arithmetic is X % of each step, and the rest is the interpreter"
    assert values["python-cos-share"] < 10


def test_temporaries_are_the_four_full_arrays(lecture, values):
    lecture(LECTURE).checked("temporaries")
    assert values["full-arrays"] == 4
    # "up to X of them are in memory at once"
    assert 1 <= values["peak-arrays"] <= 4.5


def test_compilation_claims(values):
    assert values["numba-compile-ratio"] > 1  # "times as long, because it includes the compilation"
    for name in [
        "numba-first-call",
        "numba-run",
        "float32-first-call",
        "float32-run",
        "cache-start",
        "cache-first-process",
        "cache-second-process",
    ]:
        assert values[name].split()[-1] in {"s", "ms", "µs", "ns"}, name


def test_cache_true_wrote_and_reused_machine_code(lecture):
    lecture(LECTURE).checked("cache-files")
    shown = "".join(lecture(LECTURE).cell("@njit(cache=True)")["outputs"][0]["data"]["text/plain"])
    assert ".nbc" in shown and ".nbi" in shown
    # "In the second process ... it loaded the machine code instead of compiling it."
    assert lecture(LECTURE).glued["cache-ratio"] > 2


def test_size_exercise_compares_equal_work(values):
    for name in ["size-numpy", "size-numba"]:
        record = values[f"{name}-verdict"]
        assert record["version"] == "one grid of 2048 per side" and record["baseline"] == "64 grids of 256 per side"


def test_one_core_claim_and_float32_check(lecture, values):
    # "No version kept more than X cores busy: all three ran on one core."
    assert values["busy-max"] < 1.3
    lecture(LECTURE).checked("float32")


def test_temporary_elision_explains_the_peak(values):
    # "at most X of them are in memory at once, not four ... with a name for each array keep Y alive"
    assert values["peak-arrays"] < values["peak-named-arrays"] <= 4.5
