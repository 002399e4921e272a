"""The sequential-work lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records. These tests check
the relations the prose states between measured values, never speed targets.
"""

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


def test_tight_check_stops_before_the_series_part_ways(values):
    # "compare the first steps tightly and statistics after that": the tight check must end
    # well before the chaotic series diverge, or the check itself would fail.
    assert values["check-steps"] < values["divergence-steps"] / 2
    assert values["mantissa-bits"] == 53
    assert values["cores"] >= 1 and values["unroll"] >= 2


def test_verdicts_compare_what_the_prose_names(values):
    expected = {
        "numba-vs-python": ("Numba", "Python"),
        "scan-vs-numba": ("JAX lax.scan", "Numba"),
        "fori-vs-numba": ("JAX lax.fori_loop", "Numba"),
        "unrolled-vs-scan": (f"lax.scan with unroll={values['unroll']}", "the plain lax.scan"),
        "dispatch-vs-scan": ("Python loop of jitted steps", "JAX lax.scan"),
        "unrolled-vs-numba": (f"lax.scan with unroll={values['unroll']}", "Numba"),
        "together-vs-one": ("Numba's series advanced together", "one long Numba series"),
        "ex-vmap-vs-one": ("vmap in JAX", "one long JAX series"),
        "ex-prange-vs-together": ("prange over series", "Numba's series advanced together"),
        "ex-vmap-vs-together": ("vmap in JAX", "Numba's series advanced together"),
        "ex-unroll-4": ("unroll=4", "unroll=1"),
        "ex-unroll-32": ("unroll=32", "unroll=1"),
        "ex-unroll-64": ("unroll=64", "unroll=1"),
    }
    for key, (version, baseline) in expected.items():
        record = values[f"{key}-verdict"]
        assert (record["version"], record["baseline"]) == (version, baseline), key


def test_the_interpreter_costs_more_than_compiled_code(values):
    # "the interpreter's bookkeeping for every operation dwarfs the three floating-point operations"
    assert values["numba-vs-python-verdict"]["verdict"] == "faster", values["numba-vs-python"]


def test_independent_steps_overlap(values):
    # "That time is of the order of the latency ...": independent series advanced together cost
    # far less per series-step than one series, with the same arithmetic.
    record = values["together-vs-one-verdict"]
    assert record["verdict"] == "faster" and record["ratio"] > 2, values["together-vs-one"]
    # the packed-vector sentence follows the machine-code check and reads as plain words
    assert ("packed vector instructions" in values["packed-sentence"]) == values["packed"]
    assert "`" not in values["packed-sentence"]


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


def test_unrolling_keeps_the_arithmetic(values):
    # "for the same arithmetic in the same order": the unrolled scans must give the same numbers.
    assert values["unroll-identical"] is True
    assert values["ex-unroll-same"] is True


def test_fma_is_the_whole_difference(values):
    # The FMA sentence explains a difference between Numba's and JAX's expanded series:
    # there must be one, and "the whole difference" needs contracted Numba to match JAX.
    if "the whole difference" in values["fma-sentence"]:
        assert "expanded-first-diff" in values


def test_chaos_divergence_matches_the_float64_estimate(values):
    # A last-bit difference doubles each step: series part ways after about 53 steps, not 5 or 500.
    assert 30 <= values["divergence-steps"] <= 80
    if "expanded-first-diff" in values:
        assert 0 <= values["expanded-first-diff"] < values["expanded-diverged"] <= 80
        assert f"first differ at step {values['expanded-first-diff']}" in values["divergence-sentence"]
        # the gap falls back below 0.1 later (figure): the sentence names only the first such step
        assert f"first more than 0.1 apart at step {values['expanded-diverged']}" in values["divergence-sentence"]
    assert " on." not in values["divergence-sentence"]
    if "formula-diverged" in values:
        assert 30 <= values["formula-diverged"] <= 80


def test_unrolled_python_loop_programs(values):
    n, n_min = values["loop-n-max"], values["loop-n-min"]
    # "The jaxpr of an unrolled loop grows linearly: ... three per step"
    assert values["loop-eqns-max"] == 3 * n and values["loop-eqns-min"] == 3 * n_min
    assert values["fori-eqns"] < 10  # the loop body is traced once, whatever n
    assert values["loop-mults-last"] <= 2 * n + 2
    assert 0.5 * n**2 <= values["loop-mults-path"] <= 2 * (n + 1) ** 2  # every kept step recomputes its chain


def test_compile_time_grew_with_n(values):
    # "The kept-steps version's median first call grew X-fold from n = 8 to 64 ..., while the
    # fori_loop version's stayed between A and B": the growth must dwarf the fori_loop's own spread.
    assert values["compile-growth"] > 3 * values["fori-first-call-spread"]
    # "scaled like n**2, 1,000,000 steps would need about m × 10^e" (multiplications)
    n = int(values["n-steps"].replace(",", ""))
    assert 0.5 * n**2 <= values["mults-full-value"] <= 2 * (n + 1) ** 2


def test_starting_a_step_costs_far_more_than_its_arithmetic(values):
    # "Starting work costs far more than the work of one step."
    record = values["dispatch-vs-scan-verdict"]
    assert record["verdict"] == "slower" and record["ratio"] < 0.1, values["dispatch-vs-scan"]


def test_gradient(values):
    # "a growth of X doublings per step ...: roughly the separation of nearby trajectories" (ln 2 per step)
    assert 0.7 < values["grad-log2"] < 1.3


def test_batching_exercise(values):
    # "vmap ... the loop's bookkeeping is paid once per step for all series"
    assert values["ex-vmap-vs-one-verdict"]["verdict"] == "faster", values["ex-vmap-vs-one"]
    # "against the best serial version it {took ... as long}": the simple prange loses to series together
    assert values["ex-prange-vs-together-verdict"]["verdict"] == "slower", values["ex-prange-vs-together"]
    # "prange over blocks had a speed ratio of R (95 % interval L to H) ... We give it as numbers":
    # no verdict, one block per core, more than one core busy
    assert "ex-blocks-vs-together-verdict" not in values
    assert values["ex-blocks-low"] <= values["ex-blocks-ratio"] <= values["ex-blocks-high"]
    assert values["ex-blocks"] == values["cores"]
    if values["cores"] >= 2:
        assert values["ex-blocks-busy"] > 1.2
    assert "ex-blocks-interval" not in values


def test_unroll_exercise(values):
    # "with 3.5 multiplications per step against 2.0 without unrolling"
    assert values["ex-mults-per-step-4"] > values["ex-mults-per-step-1"]
    assert values["ex-mults-per-step-4"] <= 4 and values["ex-mults-per-step-64"] >= 32
    assert values["ex-mults-per-step-1"] <= values["ex-mults-per-step-4"] < values["ex-mults-per-step-16"]
    # "XLA compiled the loop as one small call for 1, 2, 4, 16 and not for 32, 64 ...; those are the slow ones"
    assert all(values[f"ex-one-call-{k}"] for k in (1, 2, 4, 16))
    assert not values["ex-one-call-32"] and not values["ex-one-call-64"]
    assert values["ex-one-call-factors"] == "1, 2, 4, 16" and values["ex-other-factors"] == "32, 64"
    for key in ("ex-unroll-32", "ex-unroll-64"):
        assert values[f"{key}-verdict"]["verdict"] == "slower", values[key]
    # "unroll=16 already does 17 per step without such a loss": far from the one-call-less factors
    assert values["ex-unroll-16-ratio"] > 5 * values["ex-unroll-32-ratio"]
    # "its program's N fused operations (against M for unroll=16) kept B cores busy, against at most
    # B' for the factors marked as one call"
    assert values["ex-fusions-32"] > values["ex-fusions-16"] and values["ex-fusions-64"] > values["ex-fusions-32"]
    one_call_busy = [values[f"ex-busy-{k}"] for k in (1, 2, 4, 16)]
    assert values["ex-busy-one-call-max"] == max(one_call_busy)
    assert min(values["ex-busy-32"], values["ex-busy-64"]) > values["ex-busy-one-call-max"]


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results against a reference are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "np.testing.assert_allclose(x[:CHECK_STEPS], reference[:CHECK_STEPS], rtol=CHECK_RTOL)",
        "np.testing.assert_allclose(np.asarray(loops.timing(label).result)[:CHECK_STEPS]",
        "np.testing.assert_allclose(np.asarray(dispatch.timing(label).result)[:CHECK_STEPS]",
        'np.testing.assert_allclose(stats_table.loc[name], stats_table.loc["arcsine law"]',
        "np.testing.assert_allclose(derivatives, by_hand, rtol=1e-9)",
        "np.testing.assert_allclose(t.result, expected, rtol=CHECK_RTOL)",
        "np.testing.assert_allclose(finals_together(starts, CHECK_STEPS), first_steps, rtol=CHECK_RTOL)",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_every_comparison_goes_through_compare(lecture):
    code = "\n".join(source(c) for c in lecture(LECTURE).code_cells)
    assert "ratio_phrase" not in code and "speedup_table" not in code
    assert "jnp.stack(path)" in code  # only in the unrolled Python loop, not in the dispatch loop
    assert "return path                          # a list of 0-d arrays: no stacking" in code


def test_deterministic_tables_are_compared_between_builds(lecture):
    """Not tagged timing, so `make check-determinism` compares them."""
    for snippet in ["series = {", "divergence = pd.DataFrame", "unroll_programs = pd.DataFrame", "trip_counts = {"]:
        assert "timing" not in tags(lecture(LECTURE).cell(snippet)), snippet


def test_all_versions_in_float64_and_shown(lecture):
    out = text_output(lecture(LECTURE).cell("series = {"))
    for name in ["Python", "Numba", "JAX lax.scan", "JAX lax.fori_loop"]:
        assert re.search(rf"{re.escape(name)}: float64", out), name


def test_fma_explanation_was_tested(lecture, values):
    out = text_output(lecture(LECTURE).cell('fastmath={"contract"}'))
    fma_count = int(re.search(r"FMA instructions in Numba's machine code, with contraction: (\d+)", out).group(1))
    differing = int(re.search(r"steps where it differs from the JAX series: (\d+)", out).group(1))
    # "With contraction allowed, Numba's series equals JAX's bit for bit ...: the FMA is the whole difference"
    if "the whole difference" in values["fma-sentence"]:
        assert differing == 0 and fma_count > 0
    else:
        assert differing > 0


def test_scan_length_must_be_static(lecture):
    # "The length of lax.scan is always static": the cell shows JAX's own error line
    out = text_output(lecture(LECTURE).cell("except jax.errors.ConcretizationTypeError"))
    assert "length" in out and "fori_loop" in out


def test_no_half_code_glue(lecture):
    # "With an unroll factor of 8": a glued value is never appended to half a code span
    assert not re.search(r"`[^`\s]*=`\{glue", lecture(LECTURE).source)


def test_placement_on_the_cpu(lecture):
    out = text_output(lecture(LECTURE).cell('cpu = jax.devices("cpu")[0]'))
    assert out.count("CpuDevice") == 2
