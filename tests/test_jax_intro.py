"""The jax-intro lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records. These tests check
the relations the prose states between measured values, never speed targets.
"""

import re

import numpy as np
import pytest

from conftest import source, text_output

LECTURE = "jax_intro"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def test_checks_ran(lecture):
    for name in ["global-baked-in", "wrapper-reuses", "cache", "xla-bytes"]:
        lecture(LECTURE).checked(name)


def test_float32_facts(values):
    assert values["float32-eps"] == pytest.approx(float(np.finfo(np.float32).eps))
    # "differs from it by a relative X, within float32's machine epsilon"
    assert 0 <= values["float32-rel-error"] <= values["float32-eps"]


def test_devices(values):
    assert values["n-devices"] >= 1 and isinstance(values["backend"], str)


def test_first_call_includes_compilation(values):
    # "The first call took X, against Y for the fastest later call, a ratio of R."
    assert values["jit-first-call-ratio"] > 1
    for name in ["jit-first-call", "jit-run-fastest", "compile-stage", "trace-lower-stage"]:
        assert values[name].split()[-1] in {"s", "ms", "µs", "ns"}, (name, values[name])


def test_exercise_times_a_first_call_that_compiles(values):
    # Solution 1: the lambda is a new function, so lu.timeit's first call traces and compiles
    # (a second jax.jit(f) would have reused f's program and timed a warm call).
    assert values["exercise-first-call-ratio"] > 1.5


def test_dispatch_returns_before_the_result(values):
    # "a stopwatch around the bare call would have reported a speed R times too high"
    assert values["dispatch-ratio"] > 1


def test_compilation_counts(values):
    # Seven calls, two distinct shapes plus a new lambda: three compilations (a second
    # jax.jit of the same function is cached); the static version: two values, two.
    assert values["n-calls"] == 7
    assert values["n-traces"] == 3
    assert values["n-static-traces"] == 2


def test_persistent_cache(values):
    # "The first process found nothing ... The second found both"
    assert values["cache-misses-first"] == 2 and values["cache-hits-first"] == 0
    assert values["cache-hits-second"] == 2 and values["cache-misses-second"] == 0
    assert values["cache-steps"] >= 100


def test_all_core_comparison(values):
    for key in ["jit-vs-numpy", "jit-vs-eager"]:
        assert values[f"{key}-verdict"]["version"] == "JAX, jit", key
    assert values["jit-vs-numpy-verdict"]["baseline"] == "NumPy float32"
    assert values["jit-vs-eager-verdict"]["baseline"] == "JAX without jit"
    # Ratios quoted as numbers with their interval; the eager row's spread quoted in percent.
    assert values["eager-low"] <= values["eager-ratio"] <= values["eager-high"]
    assert values["eager-spread-pct"] >= 0
    # The CPU-time inference was dropped: per-core claims come from the one-core comparison.
    assert "eager-cpu-ratio" not in values
    # "NumPy's ufuncs run on the calling thread"
    assert values["busy-np"] < 1.2
    # "Against JAX without jit, which kept about as many cores busy, the jit version's gain is fusion"
    assert abs(values["busy-eager"] - values["busy-jit"]) <= 0.3
    assert values["jit-vs-eager-verdict"]["verdict"] == "faster"


def test_compiled_program_is_one_partitioned_loop(values):
    # "The whole function became 1 fused loop ... outer_dimension_partitions of N"
    assert values["f-fusions"] == 1 and values["rest-fusions"] == 1
    if values["cores"] > 1:
        assert values["partitions"] != "none" and int(values["partitions"]) > 1


def test_one_core_comparison(values):
    # Held to one core: every version kept at most one core busy.
    assert values["busy-jit-one-core"] < 1.2 and values["busy-eager-one-core"] < 1.2
    assert values["one-core-low"] <= values["one-core-ratio"] <= values["one-core-high"]
    # "against R on all cores. <threads sentence>": the sentence follows the two intervals; no verdict words.
    one, every = (values["one-core-low"], values["one-core-high"]), values["jit-vs-numpy-verdict"]
    sentence = values["one-core-threads-sentence"]
    assert sentence.startswith("Per core JAX fares worse") == (one[1] < every["low"]), sentence
    assert sentence.startswith("Per core JAX fares better") == (one[0] > every["high"]), sentence
    assert sentence.startswith("The two intervals overlap") == (one[1] >= every["low"] and one[0] <= every["high"])
    assert "one-core-verdict" not in values
    # JAX without jit on one core: quoted as numbers with their interval.
    assert values["eager-one-core-low"] <= values["eager-one-core-ratio"] <= values["eager-one-core-high"]
    # "With jit, the two parts of f go opposite ways" only where the cosine is slower and the rest faster.
    opposite = (
        values["cos-one-core-verdict"]["verdict"] == "slower" and values["rest-one-core-verdict"]["verdict"] == "faster"
    )
    assert ("opposite ways" in values["parts-sentence"]) == opposite, values["parts-sentence"]
    assert values["cos-one-core-verdict"]["version"] == "XLA's cosine"
    assert values["cos-one-core-verdict"]["baseline"] == "NumPy's cosine"
    assert values["rest-one-core-verdict"]["version"] == "XLA's rest of f"
    assert values["rest-one-core-verdict"]["baseline"] == "NumPy's rest of f"


def test_fusion_bytes(values, lecture):
    # "The compiled program is 1 fused loop that reads x and y once and writes the result once
    # [checked: cost analysis == 3 arrays]; NumPy's 5 operations move 4 times as many bytes."
    lecture(LECTURE).checked("xla-bytes")
    assert values["rest-fusions"] == 1
    assert values["rest-ops"] == 5
    # 2 + 2 + 3 + 2 + 3 = 12 arrays read or written by the five operations, against XLA's 3.
    assert values["rest-bytes-ratio"] == pytest.approx(4.0)


def test_bytes_per_second(values):
    # "NumPy's rate was R times XLA's, and its fastest time T times XLA's for 4 times the bytes. The ratio of
    # times is the ratio of bytes divided by the ratio of rates" (no claim that the rates are alike: a CI build
    # measured R = 1.52)
    for name in ["rate-numpy", "rate-xla"]:
        assert values[name].endswith("/s"), values[name]
    assert values["rest-fastest-ratio"] > 1


def test_arrays_are_about_the_size_of_l3(values):
    # "each N x N float32 array holds A, R times this machine's L3 cache (S), so part of them can
    # come from the cache": only true while an array is not many times the cache.
    if values["l3-bytes"] == 0:
        pytest.skip("no L3 size reported on this machine")
    assert values["array-l3-ratio"] == pytest.approx(values["array-nbytes"] / values["l3-bytes"])
    assert values["array-l3-ratio"] <= 4, (values["array-bytes"], values["l3-size"])


def test_threads_are_what_the_all_core_run_adds(values):
    # The gap between the all-core verdict and the one-core ratio is "what the threads bought":
    # with a second core, the jit version's busy cores exceed NumPy's.
    if values["cores"] == 1:
        pytest.skip("one core: no thread can add a busy core")
    assert values["busy-jit"] > values["busy-np"] + 0.2
    # "JAX without jit is threaded too"
    assert values["busy-eager"] > values["busy-np"] + 0.2


def test_result_checks_are_in_the_lecture(lecture):
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "np.testing.assert_allclose(max64, reference64, rtol=1e-14)",
        "assert rel_error32 <= np.finfo(np.float32).eps",
        "np.testing.assert_allclose(float(grid_max_jit(grid)), reference32",
        "np.testing.assert_allclose(float(compiled(grid)), reference32",
        'assert traces == [f"float32[{N}]", f"float32[{N // 2}]", f"float32[{N}]"]',
        "assert static_traces == [N, N // 2]",
        "rtol=1e-5, atol=1e-6",
        "with lu.one_core():",
        "np.testing.assert_allclose(float(grid_max_padded(n))",
        "np.testing.assert_allclose(float(df_dx(x0, y0)), by_hand",
        "lu.timeit(jax.jit(lambda x, y: f(x, y)), X, Y",
        "assert xla_bytes == 3 * X.nbytes",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_what_the_prose_shows(lecture):
    lec = lecture(LECTURE)
    assert "TypeError: JAX arrays are immutable" in text_output(lec.cell("small[0] = 10.0"))
    jaxpr = text_output(lec.cell("jax.make_jaxpr(grid_max)"))
    assert "cos" in jaxpr and "f32[4,4]" in jaxpr and "\x1b[" not in jaxpr
    tracing = text_output(lec.cell('print("  tracing with", grid)'))
    assert tracing.count("tracing with") == 1  # traced on the first of three calls only
    table = text_output(lec.cell("jitted(argument)"))
    assert table.count("traced and compiled") == 3 and table.count("cached") == 4
    assert re.search(r"a second jax.jit of the function\s+cached", table), table
    assert re.search(r"jax.jit of a new lambda\s+traced and compiled", table), table
    out = text_output(lec.cell("jax.jit(grid_max_of_size)(N)"))
    assert out.startswith("ConcretizationTypeError:") and not re.search(r" at \S+:\d+", out)
    # Out-of-bounds reads are clamped (the last element, 4.0), writes dropped.
    assert "small[10] -> 4.0" in text_output(lec.cell("small.at[10].set(99.0)"))
    root = text_output(lec.cell("f_hlo = f_jit.lower(X, Y).compile().as_text()"))
    assert "outer_dimension_partitions" in root and "metadata" not in root
    # Ratios quoted as numbers are shown without a verdict column; one-core tables without
    # first calls (those functions were compiled before).
    all_cores = text_output(lec.cell('cmp = lu.compare({"NumPy float32"'))
    assert "speed ratio" in all_cores and "verdict" not in all_cores and "measurable" not in all_cores
    assert "first call" not in all_cores
    one_core = text_output(lec.cell("cmp1 = lu.compare"))
    assert "speed ratio" in one_core and "verdict" not in one_core and "first call" not in one_core
    assert "JAX without jit" in one_core
    # The CPU section measures the CPU backend on any machine.
    assert "X, Y = jax.device_put(X_np, cpu), jax.device_put(Y_np, cpu)" in source(
        lec.cell('cpu = jax.devices("cpu")[0]')
    )
    parts = text_output(lec.cell("cos1 = lu.compare"))
    assert "verdict" in parts and "first call" not in parts
    # The dispatch timing is a table, not a sentence the prose repeats.
    assert "call returned" in text_output(lec.cell("dispatch_s = time_dispatch_only"))
    exercise = text_output(lec.cell("grid_max_padded(n)"))
    assert "the static version compiled 10 times, the padded version 1 time(s)" in exercise
