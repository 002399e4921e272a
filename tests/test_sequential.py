"""The sequential-work lecture executed, checked its results, and glued what its prose relies on.

Timings vary from build to build, so these tests check that measured values exist
and are sane, and that the relations the prose states hold, never speed targets.
"""

import math
import re

import pytest

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
LOCAL_PATH = re.compile(r"/(tmp|root|home|work|Users)/")


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


def test_problem_sizes_and_tolerances(values):
    n = int(values["n-steps"].replace(",", ""))
    assert n >= 1_000 and values["check-steps"] >= 1 and values["cores"] >= 1
    assert values["check-rtol"] == pytest.approx(10 * 2.0 ** values["check-steps"] * 2.0**-52)
    assert values["mantissa-bits"] == 53
    assert values["dispatch-steps"].replace(",", "").isdigit()
    assert values["log2n"] == pytest.approx(math.log2(n))


def test_sentences_follow_the_measurements(values):
    assert (values["all-identical"] == "yes") == ("bit for bit, over all" in values["identical-sentence"])
    ratio = values["scan-vs-numba-ratio"]  # JAX scan time / Numba time
    if ratio > 1.1:
        assert "slower than" in values["scan-vs-numba"]
    elif ratio < 1 / 1.1:
        assert "faster than" in values["scan-vs-numba"]
    assert ("costs more than the short depth saves" in values["assoc-sentence"]) == (values["assoc-vs-loop-ratio"] < 1)
    assert ("faster than" in values["assoc-vs-loop"]) == (values["assoc-vs-loop-ratio"] > 1.1)
    assert ("faster than n" in values["growth-sentence"]) != ("hide much of" in values["growth-sentence"])


def test_chaos_divergence_matches_the_float64_estimate(values):
    # A last-bit difference doubles each step: series part ways after about 53 steps, not 5 or 500.
    assert 30 <= values["divergence-steps"] <= 80
    if "expanded-first-diff" in values:
        assert 0 <= values["expanded-first-diff"] < values["expanded-diverged"] <= 80
        assert f"first differ at step {values['expanded-first-diff']}" in values["divergence-sentence"]
    if "formula-diverged" in values:
        assert 30 <= values["formula-diverged"] <= 80


def test_unrolling_counts(values):
    n = values["unroll-n-max"]
    assert values["unroll-n-ratio"] > 1
    assert values["unroll-eqns-max"] == 3 * n  # three primitives per unrolled step
    assert values["fori-eqns"] < 10  # the loop body is traced once, whatever n
    assert values["unroll-mults-last"] <= 2 * n + 2
    assert 0.5 * n**2 <= values["unroll-mults-path"] <= 2 * (n + 1) ** 2  # every kept step recomputes its chain


def test_work_and_depth(values):
    log2n = values["log2n"]
    assert values["hs-rounds"] == math.ceil(log2n)
    assert log2n - 2 <= values["hs-work-ratio"] <= log2n  # about n log2 n combinations
    assert values["assoc-rounds"] <= 2 * math.ceil(log2n)
    assert 1.5 < values["assoc-work-ratio"] < 2.5  # work-efficient: about 2n combinations
    assert values["ar-max-diff"] < 1e-10


def test_gradient_and_polynomial(values):
    assert values["grad-doubling"] == 2.0 ** values["grad-steps"]
    assert 0.5 < values["grad-log2"] < 1.5  # roughly one doubling per step
    assert values["poly-steps"] >= 2 and values["poly-max-coef"] > 4.0 ** values["poly-steps"]


def test_checks_ran_without_errors_or_stderr(code_cells):
    for cell in code_cells:
        assert cell.get("execution_count") is not None, f"cell did not run:\n{source(cell)[:200]}"
        for out in cell["outputs"]:
            assert out["output_type"] != "error", source(cell)[:200]
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"stderr in cell:\n{source(cell)[:200]}\n{''.join(out['text'])[:500]}")
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
        assert [c for c in code_cells if snippet in source(c)], f"no cell contains {snippet!r}"


def test_timing_cells_are_tagged(code_cells):
    """Cells that time something show timing-dependent output: the determinism check must skip them."""
    for cell in code_cells:
        times_something = "lu.timeit(" in source(cell) or "lu.format_time(" in source(cell)
        if times_something and cell["outputs"]:
            assert "timing" in tags(cell), f"untagged timing cell:\n{source(cell)[:200]}"
    for snippet in ["series = {", "divergence = pd.DataFrame", "programs = pd.DataFrame", "work_depth = pd.DataFrame"]:
        assert "timing" not in tags(the_cell(code_cells, snippet)), snippet


def test_all_versions_in_float64_and_shown(code_cells):
    out = text_output(the_cell(code_cells, "series = {"))
    for name in ["Python", "Numba", "JAX lax.scan", "JAX lax.fori_loop"]:
        assert re.search(rf"{re.escape(name)}: float64", out), name
    table = text_output(the_cell(code_cells, "table = lu.speedup_table(timings"))
    assert all(name in table for name in ["Python", "Numba", "lax.scan", "fori_loop"]) and "per step" in table


def test_fma_explanation_was_tested(code_cells):
    out = text_output(the_cell(code_cells, 'fastmath={"contract"}'))
    assert "uses FMA instructions:" in out and "equals the JAX series bit for bit:" in out


def test_placement_on_the_cpu(code_cells):
    out = text_output(the_cell(code_cells, 'cpu = jax.devices("cpu")[0]'))
    assert out.count("CpuDevice") == 2


def test_exercise_solutions_ran(code_cells):
    batch = text_output(the_cell(code_cells, "BATCH, BATCH_STEPS ="))
    assert "Batching divided JAX's cost per step by" in batch
    closed = text_output(the_cell(code_cells, "def closed_form(a, b)"))
    assert "associative scan: agrees with the loop" in closed and "values wrong" in closed
    for cell in code_cells:
        assert not LOCAL_PATH.search(text_output(cell)), source(cell)[:200]
