"""The parallel-scan lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records. These tests check
the relations the prose states between measured values, never speed targets.
"""

import math

import pytest

from conftest import source, tags

LECTURE = "parallel_scan"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def test_checks_ran(lecture):
    for name in ["work-depth", "closed-form", "max-counts"]:
        lecture(LECTURE).checked(name)


def test_associative_scan_agrees_with_the_loop(values):
    # "The results agree with the loop to within X on a series whose standard deviation is Y"
    assert values["ar-max-diff"] < 1e-10 * values["ar-std"]
    # "the associative scan's values are (not) identical to the loop's, bit for bit"
    identical = values["assoc-max-diff"] == 0
    assert values["assoc-bitwise"] == ("identical to the loop's, bit for bit" if identical
                                       else "not identical to the loop's, bit for bit")


def test_work_and_depth(values):
    n = int(values["n-steps"].replace(",", ""))
    log2n = values["log2n"]
    assert log2n == pytest.approx(math.log2(n))
    assert values["hs-rounds"] == math.ceil(log2n)
    assert log2n - 2 <= values["hs-work-ratio"] <= log2n  # about n log2 n combinations
    assert values["assoc-rounds"] <= 2 * math.ceil(log2n)
    assert 1.5 < values["assoc-work-ratio"] < 2.5  # work-efficient: about 2n combinations
    # "The Hillis-Steele scan, with X times the associative scan's work"
    assert values["hs-assoc-work"] == pytest.approx(values["hs-work-ratio"] / values["assoc-work-ratio"], rel=1e-3)


def test_brent_bound_counts(values):
    # "The work-efficient scan needs up to X on 2 lanes, about as many [as the loop] ... on 1,024 lanes Z"
    loop_rounds = int(values["loop-rounds"].replace(",", ""))
    bound = {p: int(values[f"bound-{p}"].replace(",", "")) for p in [2, 16, 1024]}
    assert loop_rounds <= bound[2] < 1.01 * loop_rounds
    assert bound[1024] < bound[16] < bound[2]
    assert bound[1024] < loop_rounds / 100


def test_verdicts_compare_what_the_prose_names(values):
    expected = {
        "assoc-vs-loop": ("the associative scan", "the Numba loop"),
        "scan-vs-loop": ("lax.scan", "the Numba loop"),
        "hs-vs-assoc": ("the Hillis-Steele scan", "the associative scan"),
        "assoc-vs-loop-one-core": ("the associative scan", "the Numba loop"),
        "blocked-vs-loop": ("the blocked scan", "the Numba loop"),
    }
    for key, (version, baseline) in expected.items():
        record = values[f"{key}-verdict"]
        assert (record["version"], record["baseline"]) == (version, baseline), key


def test_what_the_associative_scan_pays_for(values):
    # "Its compiled program reads and writes X, against Y for the loop (R times as many), and its
    # program has M operations that only move data ... against A multiplications and additions."
    assert values["scan-loop-bytes-ratio"] > 2
    assert values["moving-ops"] > values["arithmetic-ops"] > 0


def test_blocked_scan_counts(values):
    n = int(values["n-steps"].replace(",", ""))
    blocks = values["blocks"]
    fixed_up = int(values["fixup-elements"].replace(",", ""))
    # "the fix-up reads and writes the elements after the first block once more"
    assert blocks >= 1
    assert n * (blocks - 1) / blocks - 64 * blocks <= fixed_up <= n * (blocks - 1) / blocks
    assert values["fixup-share"] == pytest.approx(fixed_up / n)
    # "the blocked scan moves X where the loop moves Y (R times as much)": one more pass over the fixed-up part
    assert values["blocked-loop-bytes-ratio"] == pytest.approx(1 + fixed_up / n)


def test_polynomial_composition(values):
    assert values["poly-steps"] >= 2 and values["poly-max-coef"] > 4.0 ** values["poly-steps"]
    assert values["poly-degree"] == 2 ** values["poly-steps"]
    # "At x = 0.3 the composed polynomial gives P, where iterating the map gives Q"
    assert 0 <= values["poly-iter"] <= 1  # the map keeps [0, 1]
    assert abs(values["poly-eval"] - values["poly-iter"]) > 1


def test_closed_form_fails_where_the_running_sum_overflows(values):
    # "first goes wrong at t = X, where the running sum of b_s / P_s overflows (from t = Y);
    # P_t itself is still a normal number there"
    assert 1_000 < values["ex-closed-form-first-bad"] < 10_000
    assert values["ex-closed-form-first-bad"] == values["ex-overflow-at"]
    assert 2.2250738585072014e-308 <= values["ex-product-at-overflow"] < 1e-300


def test_result_checks_are_in_the_lecture(lecture):
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "np.testing.assert_array_equal(walk, running_sum(shocks))",
        "np.testing.assert_allclose(x, x_loop, rtol=1e-12, atol=1e-12)",
        "np.testing.assert_allclose(x_hs, x_loop, rtol=1e-12, atol=1e-12)",
        "np.testing.assert_allclose(ar1_hillis_steele(AR_COEF, e_jax), x_loop, rtol=1e-12, atol=1e-12)",
        "np.testing.assert_allclose(ar1_blocked(AR_COEF, shocks, blocks), x_loop, rtol=1e-12, atol=1e-12)",
        "np.testing.assert_allclose(products, np.cumprod(gross), rtol=1e-10)",
        "assert list(composition[\"degree\"]) == [2**k for k in range(1, 7)]",
        "np.testing.assert_allclose(linear_recurrence(jnp.asarray(gross)",
        "np.testing.assert_array_equal(running_max, np.maximum.accumulate(walk))",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_deterministic_tables_are_compared_between_builds(lecture):
    """Not tagged timing, so `make check-determinism` compares them."""
    for snippet in ["work_depth = pd.DataFrame", "rounds_bound = pd.DataFrame", "composition = pd.DataFrame",
                    "differences = pd.Series", "scan_bytes = ar1_associative.lower"]:
        assert "timing" not in tags(lecture(LECTURE).cell(snippet)), snippet


def test_busy_cores_do_not_exceed_the_cores(values):
    """A busy-core count above the core count means a sample too short for CPU accounting."""
    for key in ["assoc-busy", "loop-busy", "blocked-busy", "blocked-loop-busy", "phase1-busy", "fixup-busy"]:
        assert 0 < values[key] <= values["cores"] + 0.1, (key, values[key])
