"""The vectorization lecture ran its checks and produced what its prose relies on.

tests/test_lectures.py checks what every lecture must do (it ran without errors or
stderr, timing cells are tagged, ...); this file checks what this lecture claims.
Only deterministic relationships are asserted here (sizes, counts, which version
allocates more); timings on a shared 2-core machine are too noisy to test.
"""

import math

import pytest

LECTURE = "vectorization"

FIGURES = ["fig-loop-vs-arrays", "fig-thread-scaling", "fig-numba-versions"]

POSITIVE_FLOATS = [
    "speedup-bcast-over-loop",
    "speedup-mesh-over-loop",
    "peak-mesh-arrays",
    "peak-bcast-arrays",
    "traffic-share",
    "busy-right-after",
    "busy-after-pause",
    "matmul-speedup-threads",
    "chol-speedup-threads",
    "cos-speedup-threads",
    "matmul-busy-1",
    "matmul-busy-all",
    "chol-busy-1",
    "chol-busy-all",
    "cos-busy-1",
    "cos-busy-all",
    "oversub-ratio",
    "vectorize-par-1-ratio",
    "vectorize-par-scaling",
    "max-share-par",
    "rows-par-speedup",
    "rows-par-scaling",
    "rows-par-vs-best",
    "fused-vs-bcast",
]

POSITIVE_INTS = [
    "grid-n",
    "grid-n-loop",
    "mesh-bytes",
    "array-bytes",
    "peak-mesh",
    "peak-bcast",
    "mesh-big-arrays",
    "bcast-big-arrays",
    "mesh-traffic",
    "bcast-traffic",
    "cores",
    "blas-threads-default",
    "blas-count",
    "env-default-threads",
    "env-openblas-threads",
    "env-omp-threads",
    "workers",
    "worker-threads-default",
    "worker-threads-fixed",
    "initializer-threads",
    "oversub-threads",
    "numba-threads",
    "ufunc-pieces",
    "ufunc-piece-size",
]

TIMES = [
    "loop-per-point",
    "list-loop-per-point",
    "bcast-per-point",
    "mesh-time",
    "bcast-time",
    "traffic-time-text",
    "oversub-time",
    "fixed-time",
    "one-process-time",
    "worker-matmul-oversub",
    "worker-matmul-fixed",
    "compile-vectorize",
    "compile-vectorize-par",
    "compile-guvectorize-par",
    "compile-fused",
    "vectorize-time",
    "vectorize-par-time",
    "max-time",
    "fused-time",
    "cos-numpy-per-element",
    "cos-numba-per-element",
    "np-cos-call",
    "math-cos-call",
]

PHRASES = [
    "bcast-vs-mesh-phrase",
    "cache-phrase",
    "traffic-phrase",
    "spin-phrase",
    "matmul-threads-phrase",
    "chol-threads-phrase",
    "cos-threads-phrase",
    "threads-verdict",
    "env-threads-phrase",
    "oversub-phrase",
    "one-process-phrase",
    "vectorize-vs-numpy-phrase",
    "vectorize-par-phrase",
    "rows-par-phrase",
    "rows-par-vs-best-phrase",
    "vectorize-par-scaling-phrase",
    "rows-par-scaling-phrase",
    "initializer-phrase",
    "fused-vs-bcast-phrase",
    "fusion-phrase",
    "best-serial",
    "fastest-version",
    "fastest-threads-text",
    "blas-library",
    "blas-count-phrase",
    "simd-extensions",
]


def test_figures_were_glued(lecture):
    values = lecture(LECTURE).glued
    for name in FIGURES:
        assert str(values[name]).startswith("<Figure"), name


def test_numbers_are_finite_and_positive(lecture):
    values = lecture(LECTURE).glued
    for name in POSITIVE_FLOATS:
        value = values[name]
        assert isinstance(value, float) and math.isfinite(value) and value > 0, name
    for name in POSITIVE_INTS:
        value = values[name]
        assert isinstance(value, int) and value > 0, name


def test_times_and_phrases_are_text(lecture):
    values = lecture(LECTURE).glued
    for name in TIMES:
        assert isinstance(values[name], str), name
        number, unit = values[name].split()
        assert unit in {"s", "ms", "µs", "ns"} and float(number) > 0, name
    for name in PHRASES:
        assert isinstance(values[name], str) and values[name].strip(), name


def test_memory_relationships_the_prose_relies_on(lecture):
    values = lecture(LECTURE).glued
    n = values["grid-n"]
    # meshgrid builds two N x N float64 arrays; one N x N array is N * N * 8 bytes.
    assert values["array-bytes"] == n * n * 8
    assert values["mesh-bytes"] == 2 * n * n * 8
    # Broadcasting peaks lower than meshgrid, and each holds at least one N x N array at its peak.
    assert values["array-bytes"] <= values["peak-bcast"] < values["peak-mesh"]
    # With meshgrid inputs every ufunc call writes an N x N array; with broadcasting only some do.
    assert values["bcast-big-arrays"] < values["mesh-big-arrays"]
    assert values["bcast-traffic"] < values["mesh-traffic"]
    # The broadcast expression writes at least the sum, cosine, denominator and quotient.
    assert values["bcast-big-arrays"] >= 4
    # NumPy's iterator walks a column broadcast against a row one row at a time.
    assert values["ufunc-pieces"] == n and values["ufunc-piece-size"] == n


def test_thread_settings_the_prose_relies_on(lecture):
    values = lecture(LECTURE).glued
    # OPENBLAS_NUM_THREADS=1 (and OMP_NUM_THREADS=1, which OpenBLAS honours) start one BLAS thread.
    assert values["env-openblas-threads"] == 1
    assert values["env-omp-threads"] == 1
    assert values["env-default-threads"] >= 1
    # Workers started with OPENBLAS_NUM_THREADS=1 have one BLAS thread; the oversubscribed ones more.
    assert values["worker-threads-fixed"] == 1
    assert values["oversub-threads"] == values["workers"] * values["worker-threads-default"]
    assert 1 <= values["numba-threads"] <= values["cores"]
    # A single-threaded call cannot keep more than one core busy (small tolerance for clock jitter).
    for name in ["matmul-busy-1", "chol-busy-1", "cos-busy-1"]:
        assert values[name] < 1.3, name


CHECKS = [
    "versions-agree",  # Python loop, meshgrid and broadcasting agree
    "thread-results",  # BLAS results do not depend on the thread count
    "worker-results",  # the worker processes' products are right
    "numba-versions",  # every Numba version matches NumPy
    "cosines",  # NumPy's and Numba's cosines agree
]


def test_check_cells_passed(lecture):
    """Each flag is glued by a cell that runs only after its check cell passed."""
    for name in CHECKS:
        lecture(LECTURE).checked(name)


def test_reference_maximum_is_correct(lecture):
    maximum = lecture(LECTURE).glued["reference-max"]
    assert maximum == pytest.approx(1.0, abs=1e-4) and maximum < 1.0  # even N: origin not on the grid


@pytest.mark.parametrize(
    "marker",
    [
        "reference_small = grid_max_python(grid_small)",  # loop vs NumPy versions
        "np.testing.assert_allclose(all_threads[",  # BLAS results independent of thread count
        "for t in run_batch(pool):",  # worker results checked before timing
        "for name, func in numba_versions.items():\n    np.testing.assert_allclose",  # Numba versions
        "np.testing.assert_allclose(out_numba, out_numpy",  # the two cosines agree
    ],
)
def test_check_cells_are_in_the_executed_notebook(lecture, marker):
    lecture(LECTURE).cell(marker)
