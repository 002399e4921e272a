"""The sequential-work lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records. These tests check
the relations the prose states between measured values, never speed targets.
"""

import math
import re

import pytest

from conftest import source, tags, text_output

LECTURE = "sequential"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def test_checks_ran(lecture):
    for name in ["unroll-trip-count", "program-counts", "unroll-programs"]:
        lecture(LECTURE).checked(name)


def test_problem_sizes_and_tolerances(values):
    assert values["check-rtol"] == pytest.approx(10 * 2.0 ** values["check-steps"] * 2.0**-52)
    assert values["mantissa-bits"] == 53
    assert values["cores"] >= 1 and values["unroll"] >= 2


def test_verdicts_compare_what_the_prose_names(values):
    expected = {
        "numba-vs-python": ("Numba", "Python"),
        "scan-vs-numba": ("JAX lax.scan", "Numba"),
        "fori-vs-numba": ("JAX lax.fori_loop", "Numba"),
        "unrolled-vs-scan": (f"JAX lax.scan, unroll={values['unroll']}", "JAX lax.scan"),
        "dispatch-vs-scan": ("Python loop of jitted steps", "JAX lax.scan"),
        "ex-vmap-vs-one": ("JAX vmap(fori_loop)", "JAX fori_loop, one series"),
        "ex-one-by-one-vs-one": ("Numba, series one by one", "Numba, one series"),
        "ex-together-vs-one": ("Numba, series together", "Numba, one series"),
        "ex-prange-vs-one-by-one": ("Numba, prange over series", "Numba, series one by one"),
        "ex-vmap-vs-together": ("JAX vmap(fori_loop)", "Numba, series together"),
        "ex-unroll-64": ("unroll=64", "unroll=1"),
    }
    for key, (version, baseline) in expected.items():
        record = values[f"{key}-verdict"]
        assert (record["version"], record["baseline"]) == (version, baseline), key


def test_the_interpreter_costs_more_than_compiled_code(values):
    # "the interpreter's bookkeeping for every operation dwarfs the three floating-point operations"
    assert values["numba-vs-python-verdict"]["verdict"] == "faster", values["numba-vs-python"]


def test_compiling_costs_more_than_a_run(values):
    # "compiling cost N runs of Numba's loop and M of the scan's"
    assert values["numba-first-over-median"] > 1 and values["scan-first-over-median"] > 1


def test_unroll_divides_the_loop_iterations(values):
    n = int(values["n-steps"].replace(",", ""))
    assert int(values["trip-plain"].replace(",", "")) == n
    assert int(values["trip-unrolled"].replace(",", "")) == n // values["unroll"]


def test_bookkeeping_sentence_follows_its_verdict(values):
    verdict = values["unrolled-vs-scan-verdict"]["verdict"]
    sentence = values["bookkeeping-sentence"]
    assert ("went down" in sentence) == (verdict == "faster")
    assert ("did not change measurably" in sentence) == (verdict == "no measurable difference")
    assert ("went up" in sentence) == (verdict == "slower")
    ratio, low, high = (float(x) for x in re.findall(r"\d+\.\d+", values["unrolled-vs-numba-interval"]))
    assert low <= ratio <= high


def test_identity_sentences_follow_the_checks(values):
    assert (values["all-identical"] == "yes") == ("bit for bit, over all" in values["identical-sentence"])
    assert "bit for bit" in values["unroll-identical-sentence"] or "differ" in values["unroll-identical-sentence"]


def test_chaos_divergence_matches_the_float64_estimate(values):
    # A last-bit difference doubles each step: series part ways after about 53 steps, not 5 or 500.
    assert 30 <= values["divergence-steps"] <= 80
    if "expanded-first-diff" in values:
        assert 0 <= values["expanded-first-diff"] < values["expanded-diverged"] <= 80
        assert f"first differ at step {values['expanded-first-diff']}" in values["divergence-sentence"]
    if "formula-diverged" in values:
        assert 30 <= values["formula-diverged"] <= 80


def test_unrolled_python_loop_programs(values):
    n = values["loop-n-max"]
    assert values["loop-eqns-max"] == 3 * n  # three primitives per unrolled step
    assert values["fori-eqns"] < 10  # the loop body is traced once, whatever n
    assert values["loop-mults-last"] <= 2 * n + 2
    assert 0.5 * n**2 <= values["loop-mults-path"] <= 2 * (n + 1) ** 2  # every kept step recomputes its chain
    assert values["n-growth"] == n / values["loop-n-min"]


def test_compile_growth_is_described_from_the_numbers(values):
    # "its median first call grew X-fold ..., which is {less than / at least} the square of the growth of n"
    sub_quadratic = values["compile-growth"] < values["n-growth"] ** 2
    assert ("sub-quadratic" in values["compile-growth-sentence"]) == sub_quadratic
    assert values["compile-exponent"] == pytest.approx(math.log(values["compile-growth"]) / math.log(values["n-growth"]))


def test_starting_a_step_costs_far_more_than_its_arithmetic(values):
    # "Starting work costs far more than the work of one step."
    record = values["dispatch-vs-scan-verdict"]
    assert record["verdict"] == "slower" and record["ratio"] < 0.1, values["dispatch-vs-scan"]


def test_gradient(values):
    assert values["grad-doubling"] == 2.0 ** values["grad-steps"]
    assert 0.5 < values["grad-log2"] < 1.5  # roughly one doubling per step


def test_batching_exercise(values):
    # "vmap(fori_loop) ... the loop's bookkeeping is paid once per step for all 1,000 series"
    assert values["ex-vmap-vs-one-verdict"]["verdict"] == "faster", values["ex-vmap-vs-one"]
    # "All series together ...: the processor can overlap the steps of different series"
    assert values["ex-together-vs-one-verdict"]["verdict"] == "faster", values["ex-together-vs-one"]
    assert "vmulpd" in values["ex-packed-sentence"] or "no packed" in values["ex-packed-sentence"]
    assert values["ex-prange-busy"] > 0


def test_unroll_exercise(values):
    # "Unrolled by 64 ... about k**2 per iteration ... a large factor can cost far more than it saves"
    assert values["ex-unroll-64-verdict"]["verdict"] == "slower", values["ex-unroll-64"]
    assert values["ex-mults-per-step-4"] <= 4 and values["ex-mults-per-step-64"] >= 32
    assert values["ex-mults-per-step-1"] <= values["ex-mults-per-step-4"] < values["ex-mults-per-step-16"]


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results against a reference are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "np.testing.assert_allclose(x[:CHECK_STEPS], reference[:CHECK_STEPS], rtol=CHECK_RTOL)",
        "np.testing.assert_allclose(np.asarray(loops.timing(label).result)[:CHECK_STEPS]",
        "np.testing.assert_allclose(np.asarray(dispatch.timing(label).result)[:CHECK_STEPS]",
        "np.testing.assert_allclose(stats_table.loc[name], stats_table.loc[\"arcsine law\"]",
        "np.testing.assert_allclose(derivatives, by_hand, rtol=1e-9)",
        "np.testing.assert_allclose(t.result, expected, rtol=CHECK_RTOL)",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_every_comparison_goes_through_compare(lecture):
    code = "\n".join(source(c) for c in lecture(LECTURE).code_cells)
    assert "ratio_phrase" not in code and "speedup_table" not in code
    assert "jnp.stack(path)" in code  # only in the unrolled Python loop, not in the dispatch loop
    assert "return path                          # a list of 0-d arrays: no stacking" in code


def test_deterministic_tables_are_compared_between_builds(lecture):
    """Not tagged timing, so `make check-determinism` compares them."""
    for snippet in ["series = {", "divergence = pd.DataFrame", "programs = pd.DataFrame(program_rows)",
                    "unroll_programs = pd.DataFrame", "trip_counts = {"]:
        assert "timing" not in tags(lecture(LECTURE).cell(snippet)), snippet


def test_all_versions_in_float64_and_shown(lecture):
    out = text_output(lecture(LECTURE).cell("series = {"))
    for name in ["Python", "Numba", "JAX lax.scan", "JAX lax.fori_loop"]:
        assert re.search(rf"{re.escape(name)}: float64", out), name


def test_fma_explanation_was_tested(lecture):
    out = text_output(lecture(LECTURE).cell('fastmath={"contract"}'))
    assert "uses FMA instructions:" in out and "equals the JAX series bit for bit:" in out


def test_placement_on_the_cpu(lecture):
    out = text_output(lecture(LECTURE).cell('cpu = jax.devices("cpu")[0]'))
    assert out.count("CpuDevice") == 2
