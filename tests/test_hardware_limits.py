"""The hardware-limits lecture executed, checked its results, and glued what its prose relies on.

Timings vary from build to build (and the build machine may be shared), so these tests
check that measured values exist and are sane, that the deterministic quantities
(byte counts, intensities, the ridge point) follow from their definitions, and that
every sentence worded from a measurement matches it. No speed targets. What every
lecture must do (run without errors or stderr, ...) is checked in tests/test_lectures.py.
"""

import ast
import builtins
import math
import re

import pytest

from conftest import source, tags, text_output

LECTURE = "hardware_limits"

POSITIVE = [
    # bandwidths (GB/s) and compute rates (GFLOP/s)
    "bw-all", "bw-one", "bw-ratio", "bw-triad-numba", "bw-triad-numpy", "bw-triad-serial", "bw-copy-numpy",
    "peak-all", "peak-one", "blas-all-gflops", "peak-ratio",
    "grid-gflops-numpy", "grid-gflops-serial", "grid-gflops-parallel", "grid-gflops-jax", "numpy-grid-gbps",
    "jax-triad-gbps", "numba-triad-median-gbps", "actual-gbps-min", "actual-gbps-max",
    "naive-gflops", "blocked-gflops", "jax-matmul-gflops", "blas-loop-gflops",
    "threads-one-gflops", "threads-all-gflops", "f32-gflops", "f64-gflops", "best-block-gflops",
    # intensities (flop/byte) and the ridge point
    "triad-intensity", "triad-numpy-intensity", "ridge", "matmul-intensity", "numpy-grid-intensity",
    "fused-grid-intensity", "dot-intensity",
    # ratios and shares
    "out-vs-fused", "temp-vs-out", "bytes-ratio", "numpy-grid-memory-share", "numpy-vs-serial-grid",
    "blas-vs-blocked", "blocked-vs-naive", "best-triad-roof-percent", "blocked-roof-percent",
    "naive-roof-percent", "parallel-grid-roof-percent", "warm-numba-ratio", "warm-jax-ratio",
    "first-touch-ratio", "sync-ratio", "spread-min", "spread-median", "spread-max", "spread-ratio",
    "noise-range", "blocked-vs-blas-one", "blocked-vs-blas-all", "dtype-ratio", "peak-rss-gib",
    "dot-plain-share", "dot-reassoc-share", "dot-blas-share", "dot-blas-vs-loop", "mm-gap", "block-spread",
]
NON_NEGATIVE = ["jax-grid-bytes", "jax-temp-arrays", "noise-cv-percent", "f32-rel-error", "load-average"]
TIMES = ["warm-numba-first", "warm-jax-first", "dispatch-time", "blocked-time", "dot-predicted"]
SENTENCES = [
    "stream-size-sentence", "bw-sentence", "numpy-triad-sentence", "cache-sentence", "peak-sentence",
    "cycle-sentence", "numpy-grid-sentence", "jax-fusion-sentence", "actual-sentence", "fusion-sentence",
    "temp-sentence", "blocked-sentence", "blas-gap-sentence", "above-sentence", "first-touch-sentence",
    "sync-sentence", "spread-sentence", "threads-sentence", "load-sentence", "dot-gap-sentence",
    "dot-above-sentence", "vm-sentence", "triad-roof-sentence", "matmul-roof-sentence", "grid-fusion-sentence",
]
FIGURES = ["fig-stream", "fig-cache-sweep", "fig-roofline", "fig-spread"]

def test_numbers_exist_and_are_sane(lecture):
    values = lecture(LECTURE).glued
    for name in POSITIVE:
        value = values[name]
        assert isinstance(value, (int, float)) and math.isfinite(value) and value > 0, (name, value)
    for name in NON_NEGATIVE:
        value = values[name]
        assert isinstance(value, (int, float)) and math.isfinite(value) and value >= 0, (name, value)
    for name in TIMES:
        assert values[name].split()[-1] in {"s", "ms", "µs", "ns"}, (name, values[name])
    for name in SENTENCES:
        assert isinstance(values[name], str) and len(values[name]) > 20, name
    for name, value in values.items():  # {glue:text} inserts text as is: Markdown in it would show raw
        if isinstance(value, str) and not value.startswith("<Figure"):
            assert "`" not in value and not re.search(r"\*\w", value), (name, value)
    for name in FIGURES:
        assert values[name].startswith("<Figure"), name
    for name in ["cache-gain", "flops-per-cycle"]:  # only where the system reports caches / a clock
        if name in values:
            assert math.isfinite(values[name]) and values[name] > 0, name


def test_stream_byte_counts_and_sizes(lecture):
    values = lecture(LECTURE).glued
    # Counted the STREAM way: 8 bytes per array read or written, write-allocate not counted.
    assert [values[f"bytes-{k}"] for k in ("copy", "scale", "add", "triad")] == [16, 16, 24, 24]
    n, nbytes = values["stream-n"], values["stream-array-bytes"]
    assert nbytes == 8 * n and 3 * nbytes <= 1_500_000_000
    llc = values["llc-bytes"]
    if llc:
        assert ("STREAM's rule would ask" in values["stream-size-sentence"]) == (nbytes < 4 * llc)
        assert values["llc-text"] != "unknown"


def test_intensities_follow_their_definitions(lecture):
    values = lecture(LECTURE).glued
    assert values["triad-intensity"] == pytest.approx(2 / 24)
    assert values["triad-numpy-intensity"] == pytest.approx(2 / 40)
    assert values["dot-intensity"] == pytest.approx(2 / 16)
    assert values["bytes-ratio"] == pytest.approx(40 / 24)
    flops = values["grid-flops-per-point"]
    assert flops == 5 + values["cos-flops"]
    assert values["numpy-grid-bytes"] == 72  # nine passes over N x N float64 arrays
    assert values["numpy-grid-intensity"] == pytest.approx(flops / 72)
    assert values["fused-grid-intensity"] == pytest.approx(flops * values["grid-n"] / 8)
    if values["jax-grid-bytes"] > 0:
        assert values["jax-grid-intensity"] == pytest.approx(flops / values["jax-grid-bytes"])
        assert values["jax-grid-bytes"] == pytest.approx(16 * values["jax-temp-arrays"])
    assert values["matmul-intensity"] == pytest.approx(values["matmul-n"] / 12)
    assert values["ridge"] == pytest.approx(values["peak-all"] / values["bw-all"])


def test_ceilings_are_consistent(lecture):
    values = lecture(LECTURE).glued
    assert values["bw-one"] == values["bw-triad-serial"]
    assert values["bw-all"] == pytest.approx(max(values["bw-triad-numba"], values["bw-triad-serial"]))
    assert values["bw-ratio"] == pytest.approx(values["bw-triad-numba"] / values["bw-triad-serial"])
    assert values["peak-all"] == pytest.approx(max(values["blas-all-gflops"], values["peak-one"]))
    assert values["peak-ratio"] == pytest.approx(values["blas-all-gflops"] / values["peak-one"])
    assert values["blas-threads"] >= 1 and values["numba-threads"] >= 1 and values["cores"] >= 1
    assert values["peak-rss-gib"] < 4


def test_sentences_follow_the_measurements(lecture):
    values = lecture(LECTURE).glued
    assert ("less than one thread alone" in values["peak-sentence"]) == (values["peak-ratio"] < 1)
    assert ("beat the all-core triad" in values["copy-sentence"]) == (values["bw-copy-numpy"] > values["bw-all"])
    assert ("changed the triad's bandwidth by a factor of only" in values["bw-sentence"]) == (
        1 / 1.2 < values["bw-ratio"] <= 1.2)
    numpy_slower = values["bw-triad-numpy"] < values["bw-triad-serial"]
    assert ("found part of its data in the cache" in values["numpy-triad-sentence"]) == (not numpy_slower)
    assert ("Blocking made the loop" in values["blocked-sentence"]) == (values["blocked-vs-naive"] > 1)
    assert ("BLAS was still" in values["blas-gap-sentence"]) == (values["blas-vs-blocked"] > 1)
    assert ("does not exist" in values["sync-sentence"]) == (values["sync-ratio"] > 2)
    assert ("mapping fresh pages" in values["first-touch-sentence"]) == (values["first-touch-ratio"] > 1.1)
    assert ("a single run could have" in values["spread-sentence"]) == (values["spread-ratio"] > 1.5)
    ratio = values["blocked-vs-blas-all"] / values["blocked-vs-blas-one"]  # = BLAS 1-thread / all-thread time
    change = max(ratio, 1 / ratio)
    assert ("differ by a factor of" in values["threads-sentence"]) == (change > 1.2)
    assert ("other work was competing" in values["load-sentence"]) == (
        values["load-average"] > 0.75 * values["cores"])
    assert ("fused JAX's version into a single loop" in values["jax-fusion-sentence"]) == (
        values["jax-grid-bytes"] == 0)
    assert ("same order" in values["actual-sentence"]) == (values["actual-gbps-max"] < 2 * values["actual-gbps-min"])
    assert ("beat the prediction" in values["dot-above-sentence"]) == (
        max(values["dot-plain-share"], values["dot-reassoc-share"], values["dot-blas-share"]) > 1.05)
    assert values["mm-gap"] == pytest.approx(values["blas-vs-blocked"])
    if "l3-gain" in values:
        assert ("little extra bandwidth" in values["l3-sentence"]) == (values["l3-gain"] < 1.3)
    assert ("reached only" in values["triad-roof-sentence"]) == (values["best-triad-roof-percent"] < 70)
    assert ("far more" in values["matmul-roof-sentence"]) == (values["blocked-roof-percent"] < 50)
    assert ("would account for only" in values["grid-fusion-sentence"]) == (
        values["numpy-grid-memory-share"] < 0.6)


def test_spread_and_noise_summaries(lecture):
    values = lecture(LECTURE).glued
    assert values["spread-min"] <= values["spread-median"] <= values["spread-max"]
    assert values["spread-ratio"] == pytest.approx(values["spread-max"] / values["spread-min"])
    assert values["spread-runs"] >= 10 and values["noise-blocks"] >= 2
    assert values["noise-range"] >= 1
    assert values["actual-gbps-min"] <= values["actual-gbps-max"]
    assert values["best-block"] in {16, 32, 64, 128, 256}


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results against a reference are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "np.testing.assert_allclose(got, want, rtol=1e-15)",               # STREAM kernels, small arrays
        "check_full_size(kernel)",                                          # and the full-size arrays
        "np.testing.assert_allclose(grid_max_numpy(grid), reference, rtol=1e-12)",
        "assert grid_max_parallel(grid) == reference",
        "np.testing.assert_allclose(float(grid_max_jax(grid_jax)), reference, rtol=1e-12)",
        "np.testing.assert_allclose(t.result, c_blas",
        "np.testing.assert_allclose(matmul_naive(loop_a, loop_b), c_ref",
        "np.testing.assert_allclose(matmul_blocked(loop_a, loop_b, BLOCK), c_ref",
        "np.testing.assert_allclose(np.asarray(matmul_jax(loop_a_jax, loop_b_jax)), c_ref",
        "np.testing.assert_allclose(np.asarray(result_jax)[sample]",
        "np.testing.assert_allclose(func(x_vec, y_vec), expected_dot",
        "np.testing.assert_allclose(matmul_blocked(loop_a, loop_b, bs), c_ref",
        "assert peak_rss < 4 * 2**30",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_reference_maximum(lecture):
    cell = lecture(LECTURE).cell("reference = grid_max_serial(grid)")
    maximum = float(text_output(cell).strip().removeprefix("np.float64(").rstrip(")"))
    assert maximum == pytest.approx(1.0, abs=1e-4) and maximum < 1.0  # even N: origin not on the grid


def test_jax_runs_in_float64_set_before_any_use(lecture):
    code_cells = lecture(LECTURE).code_cells
    first = source(code_cells[0])
    assert 'jax.config.update("jax_enable_x64", True)' in first
    assert "jnp." not in first.split("jax_enable_x64")[0]
    assert any("assert grid_jax.dtype == jnp.float64" in source(c) for c in code_cells)


def _bound_and_loaded(code):
    tree = ast.parse(code)
    bound, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else loaded).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, loaded


def test_hidden_cells_define_nothing_later_cells_use(lecture):
    """Cells tagged remove-cell vanish from the downloadable notebook; nothing visible may need them."""
    visible_bound, hidden_only = set(dir(builtins)), set()
    for cell in lecture(LECTURE).code_cells:
        bound, loaded = _bound_and_loaded(source(cell))
        if "remove-cell" in tags(cell):
            hidden_only |= bound - visible_bound
            continue
        missing = (loaded - bound - visible_bound) & hidden_only
        assert not missing, f"visible cell uses {sorted(missing)} defined only in a hidden cell:\n{source(cell)[:300]}"
        visible_bound |= bound
        hidden_only -= bound
