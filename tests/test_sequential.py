"""The sequential-work lecture checked its results and glued what its prose relies on.

tests/test_lectures.py checks what every lecture must do (it ran without errors or
stderr, timing cells are tagged, ...); this file checks what this lecture claims.
Timings vary from build to build, so these tests check that measured values exist
and are sane, and that the relations the prose states hold, never speed targets.
"""

import math
import re

import pytest

from conftest import source, tags, text_output

LECTURE = "sequential"

POSITIVE = [
    "check-rtol", "numba-vs-python", "scan-vs-numba-ratio", "unroll-vs-fori", "unroll-growth",
    "fori-growth", "unroll-n-ratio", "dispatch-vs-scan", "ar-std", "log2n", "hs-work-ratio",
    "assoc-work-ratio", "assoc-vs-loop-ratio", "poly-max-coef", "grad-typical", "grad-doubling",
    "grad-log2",
]
NON_NEGATIVE = ["ar-max-diff"]
TIMES = [
    f"{version}-{kind}" for version in ("python", "numba", "scan", "fori") for kind in ("per-step", "first-call", "median")
] + ["unroll-first-call-max", "fori-first-call-max", "dispatch-per-step"]
SENTENCES = [
    "identical-sentence", "compile-sentence", "bookkeeping-sentence", "speed-sentence", "divergence-sentence",
    "fma-sentence", "growth-sentence", "assoc-sentence", "scan-vs-numba", "fori-vs-numba", "assoc-vs-loop",
]
COMPARISON = re.compile(r"^(\d+\.\d times (faster|slower) than|about as fast as \(within 10%\))$")


def test_numbers_exist_and_are_sane(lecture):
    values = lecture(LECTURE).glued
    for name in POSITIVE:
        value = values[name]
        assert isinstance(value, float) and math.isfinite(value) and value > 0, (name, value)
    for name in NON_NEGATIVE:
        value = values[name]
        assert isinstance(value, float) and math.isfinite(value) and value >= 0, (name, value)
    for name in TIMES:
        assert values[name].split()[-1] in {"s", "ms", "µs", "ns"}, (name, values[name])
    for name in SENTENCES:
        assert isinstance(values[name], str) and len(values[name]) > 10, name
    for name in ["scan-vs-numba", "fori-vs-numba", "assoc-vs-loop"]:
        assert COMPARISON.match(values[name]), (name, values[name])
    for name in ["fig-divergence", "fig-unroll"]:
        assert values[name].startswith("<Figure"), name


def test_problem_sizes_and_tolerances(lecture):
    values = lecture(LECTURE).glued
    n = int(values["n-steps"].replace(",", ""))
    assert n >= 1_000 and values["check-steps"] >= 1 and values["cores"] >= 1
    assert values["check-rtol"] == pytest.approx(10 * 2.0 ** values["check-steps"] * 2.0**-52)
    assert values["mantissa-bits"] == 53
    assert values["dispatch-steps"].replace(",", "").isdigit()
    assert values["log2n"] == pytest.approx(math.log2(n))


def test_sentences_follow_the_measurements(lecture):
    values = lecture(LECTURE).glued
    assert (values["all-identical"] == "yes") == ("bit for bit, over all" in values["identical-sentence"])
    ratio = values["scan-vs-numba-ratio"]  # JAX scan time / Numba time
    if ratio > 1.1:
        assert "slower than" in values["scan-vs-numba"]
    elif ratio < 1 / 1.1:
        assert "faster than" in values["scan-vs-numba"]
    assert ("costs more than the short depth saves" in values["assoc-sentence"]) == (values["assoc-vs-loop-ratio"] < 1)
    assert ("faster than" in values["assoc-vs-loop"]) == (values["assoc-vs-loop-ratio"] > 1.1)
    assert ("faster than n" in values["growth-sentence"]) != ("hide much of" in values["growth-sentence"])


def test_chaos_divergence_matches_the_float64_estimate(lecture):
    values = lecture(LECTURE).glued
    # A last-bit difference doubles each step: series part ways after about 53 steps, not 5 or 500.
    assert 30 <= values["divergence-steps"] <= 80
    if "expanded-first-diff" in values:
        assert 0 <= values["expanded-first-diff"] < values["expanded-diverged"] <= 80
        assert f"first differ at step {values['expanded-first-diff']}" in values["divergence-sentence"]
    if "formula-diverged" in values:
        assert 30 <= values["formula-diverged"] <= 80


def test_unrolling_counts(lecture):
    values = lecture(LECTURE).glued
    n = values["unroll-n-max"]
    assert values["unroll-n-ratio"] > 1
    assert values["unroll-eqns-max"] == 3 * n  # three primitives per unrolled step
    assert values["fori-eqns"] < 10  # the loop body is traced once, whatever n
    assert values["unroll-mults-last"] <= 2 * n + 2
    assert 0.5 * n**2 <= values["unroll-mults-path"] <= 2 * (n + 1) ** 2  # every kept step recomputes its chain


def test_work_and_depth(lecture):
    values = lecture(LECTURE).glued
    log2n = values["log2n"]
    assert values["hs-rounds"] == math.ceil(log2n)
    assert log2n - 2 <= values["hs-work-ratio"] <= log2n  # about n log2 n combinations
    assert values["assoc-rounds"] <= 2 * math.ceil(log2n)
    assert 1.5 < values["assoc-work-ratio"] < 2.5  # work-efficient: about 2n combinations
    assert values["ar-max-diff"] < 1e-10


def test_gradient_and_polynomial(lecture):
    values = lecture(LECTURE).glued
    assert values["grad-doubling"] == 2.0 ** values["grad-steps"]
    assert 0.5 < values["grad-log2"] < 1.5  # roughly one doubling per step
    assert values["poly-steps"] >= 2 and values["poly-max-coef"] > 4.0 ** values["poly-steps"]


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results against a reference are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "np.testing.assert_allclose(x[:CHECK_STEPS], reference[:CHECK_STEPS], rtol=CHECK_RTOL)",
        "np.testing.assert_allclose(np.asarray(t.result)[:CHECK_STEPS], reference[:CHECK_STEPS]",
        "np.testing.assert_allclose(stats_table.loc[name], stats_table.loc[\"arcsine law\"]",
        "np.testing.assert_array_equal(walk, running_sum(shocks))",
        "np.testing.assert_allclose(x, x_loop, rtol=1e-12, atol=1e-12)",
        "np.testing.assert_allclose(x_hs, x_loop, rtol=1e-12, atol=1e-12)",
        "assert list(composition[\"degree\"]) == [2**k for k in range(1, 7)]",
        "np.testing.assert_allclose(derivatives, by_hand, rtol=1e-9)",
        "np.testing.assert_allclose(linear_recurrence(jnp.asarray(gross)",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_deterministic_tables_are_compared_between_builds(lecture):
    """Not tagged timing, so `make check-determinism` compares them."""
    for snippet in ["series = {", "divergence = pd.DataFrame", "programs = pd.DataFrame", "work_depth = pd.DataFrame"]:
        assert "timing" not in tags(lecture(LECTURE).cell(snippet)), snippet


def test_all_versions_in_float64_and_shown(lecture):
    out = text_output(lecture(LECTURE).cell("series = {"))
    for name in ["Python", "Numba", "JAX lax.scan", "JAX lax.fori_loop"]:
        assert re.search(rf"{re.escape(name)}: float64", out), name
    table = text_output(lecture(LECTURE).cell("table = lu.speedup_table(timings"))
    assert all(name in table for name in ["Python", "Numba", "lax.scan", "fori_loop"]) and "per step" in table


def test_fma_explanation_was_tested(lecture):
    out = text_output(lecture(LECTURE).cell('fastmath={"contract"}'))
    assert "uses FMA instructions:" in out and "equals the JAX series bit for bit:" in out


def test_placement_on_the_cpu(lecture):
    out = text_output(lecture(LECTURE).cell('cpu = jax.devices("cpu")[0]'))
    assert out.count("CpuDevice") == 2


def test_exercise_solutions_ran(lecture):
    batch = text_output(lecture(LECTURE).cell("BATCH, BATCH_STEPS ="))
    assert "Batching divided JAX's cost per step by" in batch
    closed = text_output(lecture(LECTURE).cell("def closed_form(a, b)"))
    assert "associative scan: agrees with the loop" in closed and "values wrong" in closed
