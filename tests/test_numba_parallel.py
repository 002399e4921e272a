"""The Numba parallel-loops lecture's own claims: the relations its prose states about its results.

tests/test_lectures.py checks what every lecture must do (it executed cleanly, timing cells are
tagged, every verdict sentence comes from a lu.compare record). Timings vary from build to build,
so these tests check relations and records, never speed targets.
"""

import math

import pytest

from conftest import source, text_output

LECTURE = "numba_parallel"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def record(values, name):
    return values[f"{name}-verdict"]


def test_reference_maximum(lecture):
    cell = lecture(LECTURE).cell("reference = grid_max_serial(grid)")
    maximum = float(text_output(cell).strip().removeprefix("np.float64(").rstrip(")"))
    assert maximum == pytest.approx(1.0, abs=1e-4) and maximum < 1.0  # even N: origin not on the grid


def test_comparisons_name_the_right_versions(values):
    # Each sentence names a version and its baseline; the records must be those comparisons.
    expected = {
        "prange-vs-serial": ("prange", "the serial loop"),
        "one-thread-vs-serial": ("prange on 1 thread", "the serial loop"),
        "threads-vs-one": (f"prange on {values['threads']} threads", "prange on 1 thread"),
        "all-threads-vs-serial": (f"prange on {values['threads']} threads", "the serial loop"),
        "small-prange": ("prange", "the serial loop"),
        "inner-vs-outer": ("prange on the inner loop", "prange on the outer loop"),
        "chunked-vs-default": ("chunks of 16 rows", "equal rows"),
        "paired-vs-default": ("paired rows", "equal rows"),
        "equal-vs-serial": ("equal rows", "the serial triangle"),
        "paired-vs-serial": ("paired rows", "the serial triangle"),
        "pi-prange": ("prange", "the serial compilation"),
        "vectorize-threads": ("@vectorize, parallel", "@vectorize"),
        "guvectorize-threads": ("@guvectorize rows, parallel", "@guvectorize rows"),
        "fastmath-vs-serial": ("the fastmath loop", "the plain loop"),
        "parallel-fast-vs-fast": ("prange with fastmath", "the fastmath loop"),
        "plain-cache": ("a cached slice", "the large array"),
        "fast-cache": ("a cached slice", "the large array"),
    }
    for name, (version, baseline) in expected.items():
        assert (record(values, name)["version"], record(values, name)["baseline"]) == (version, baseline), name
    assert values["threads"] >= 1 and values["grid-n"] >= 2


def test_efficiency_is_the_speedup_over_serial_per_thread(values):
    # "the speedup over the serial loop divided by the threads ... (interval ... to ...)"
    speedup = record(values, "all-threads-vs-serial")
    threads = values["threads"]
    assert values["efficiency-top"] == pytest.approx(speedup["ratio"] / threads)
    assert values["efficiency-top-low"] == pytest.approx(speedup["low"] / threads)
    assert values["efficiency-top-high"] == pytest.approx(speedup["high"] / threads)
    assert values["fig-thread-scaling"].startswith("<Figure")


def test_the_lost_maximum(values):
    # "The loop returned -inf every time, on one thread as well, and Numba gave no warning."
    assert values["if-max-all-lost"] is True
    assert values["if-max-result"] == "-inf"
    assert values["if-max-lost"].startswith("The loop returned -inf every time, on one thread as well")


def test_the_shared_slot_race(lecture, values):
    lecture(LECTURE).checked("reductions")  # the reduction is exact, the shared slot is not
    # The sentence chosen must be the one its measurement backs.
    assert values["slot-sentence"].startswith("It equals the sum over one thread's half") == values["slot-one-half"]


def test_diagnostics_shown_without_paths(lecture):
    lecture(LECTURE).checked("diagnostics")  # the hoisted allocation is values = np.empty(n)
    out = text_output(lecture(LECTURE).cell("grid_max_diagnosed.parallel_diagnostics(level=3)"))
    assert "rewritten as a serial loop" in out and "(fused)" in out and "hoisted" in out
    assert "<this cell>" in out and "ipykernel" not in out


def test_threading_layer(values):
    assert values["layer"] in {"tbb", "omp", "workqueue"}
    # The fork-safety paragraph is about GNU OpenMP; it must be the library in use.
    assert values["layer"] == "omp" and values["omp-vendor"] == "GNU"


def test_triangle_balance_and_chunksize_restored(lecture, values):
    lecture(LECTURE).checked("triangle")  # every schedule gave the serial maximum
    assert values["chunksize-after"] == 0  # the `with numba.parallel_chunksize(16)` block restored it
    threads = values["threads"]
    # "With equal rows the busiest thread did X % of the work": the last of p equal ranges of a triangle.
    assert values["share-default"] == pytest.approx(100 * (2 * threads - 1) / threads**2, abs=1)
    # "Paired rows brought the busiest thread down to X %" (an equal share).
    assert values["share-paired"] == pytest.approx(100 / threads, abs=1)
    assert values["share-chunked"] > values["share-paired"]  # on the omp layer chunks stay contiguous


def test_monte_carlo_is_correct_and_reproducible(lecture, values):
    lecture(LECTURE).checked("monte-carlo")  # same bits on 1 thread, on all, and serially
    assert values["pi-error-in-se"] < 4
    assert abs(values["pi-estimate"] - math.pi) < 0.01
    assert values["chunks"] == 64 and values["pi-draws"] == "8,000,000"
    out = text_output(lecture(LECTURE).cell("for chunks in (64, 65):"))
    estimates = [line for line in out.splitlines() if "chunks:" in line]
    assert len(estimates) == 2 and estimates[0].split()[2] != estimates[1].split()[2]


def test_legacy_seed_is_not_reproducible_across_thread_counts(values):
    # "threads and one thread agreed on X % of the draws: the rest came from streams the seed never touched"
    if values["threads"] > 1:
        assert 0 <= values["legacy-same"] < 100


def test_ufunc_calls_and_svml(values):
    # "called once per row, N times with N elements"
    assert values["ufunc-calls"] == values["ufunc-call-size"] == values["grid-n"]
    assert values["svml"] is False  # "this build has no SVML"
    assert record(values, "one-call")["version"] == "one call on full arrays"


def test_fastmath_bandwidth_numbers(values):
    assert values["fastmath-changes-digits"] is True  # "The digits change too"
    for name in ["gbs-serial", "gbs-fast", "gbs-parallel-fast", "gbs-fast-cached"]:
        assert values[name] > 0, name
    # GB/s is the bytes over the median time, so the ordering of speeds and of GB/s agree with the ratios.
    ratio = record(values, "fastmath-vs-serial")["ratio"]
    assert values["gbs-fast"] / values["gbs-serial"] == pytest.approx(ratio, rel=0.5)
    assert values["vector-size"].endswith("MiB")


def test_the_times_are_durations(values):
    for name in ["compile-serial", "compile-parallel", "region-cost", "small-serial-time"]:
        assert values[name].split()[-1] in {"s", "ms", "µs", "ns"}, name


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results against a reference are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "assert grid_max_parallel(grid) == reference",
        "assert total_reduction(counts) == counts.sum()",
        "assert grid_max_diagnosed(grid) == reference",
        "assert kernel(triangle_grid, owner) == triangle_reference",
        "assert abs(estimate - math.pi) < 4 * standard_error",
        "np.testing.assert_allclose(row_max_parallel(grid[:50], grid[:50]), row_maxima",
        "np.testing.assert_allclose(fixed(race_grid), expected, rtol=1e-12)",
        "assert result == tuple(int(k) for k in expected)",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_spot_the_race_solution(lecture):
    out = text_output(lecture(LECTURE).cell("wrong_rows = ["))
    assert "wrong rows in 10 runs" in out and "both fixes agree" in out
