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
    assert values["assoc-bitwise"] in {"identical to the loop's, bit for bit",
                                       "not identical to the loop's, bit for bit"}


def test_work_and_depth(values):
    n = int(values["n-steps"].replace(",", ""))
    log2n = values["log2n"]
    assert log2n == pytest.approx(math.log2(n))
    assert values["hs-rounds"] == math.ceil(log2n)
    assert log2n - 2 <= values["hs-work-ratio"] <= log2n  # about n log2 n combinations
    assert values["assoc-rounds"] <= 2 * math.ceil(log2n)
    assert 1.5 < values["assoc-work-ratio"] < 2.5  # work-efficient: about 2n combinations


def test_brent_bound_counts(values):
    # "The work-efficient scan needs up to X on 2 lanes, as many as the loop ... on 1,024 lanes Z"
    loop_rounds = int(values["loop-rounds"].replace(",", ""))
    assert values["bound-2"] >= loop_rounds
    assert values["bound-1024"] < values["bound-16"] < values["bound-2"]
    assert values["bound-1024"] < loop_rounds / 100


def test_verdicts_compare_what_the_prose_names(values):
    expected = {
        "assoc-vs-loop": ("JAX associative_scan", "Numba loop"),
        "scan-vs-loop": ("JAX lax.scan", "Numba loop"),
        "hs-vs-assoc": ("NumPy Hillis-Steele", "JAX associative_scan"),
        "assoc-vs-loop-small": ("JAX associative_scan", "Numba loop"),
        "assoc-vs-loop-large": ("JAX associative_scan", "Numba loop"),
    }
    for key, (version, baseline) in expected.items():
        record = values[f"{key}-verdict"]
        assert (record["version"], record["baseline"]) == (version, baseline), key


def test_assoc_sentence_follows_its_verdict(values):
    verdict = values["assoc-vs-loop-verdict"]["verdict"]
    sentence = values["assoc-sentence"]
    assert ("cost more than the short depth saved" in sentence) == (verdict == "slower")
    assert ("balanced out" in sentence) == (verdict == "no measurable difference")
    assert ("came out ahead" in sentence) == (verdict == "faster")


def test_sizes_and_growth(values):
    small = int(values["size-small"].replace(",", ""))
    large = int(values["size-large"].replace(",", ""))
    assert values["size-growth"] == large / small
    assert values["loop-growth"] > 1 and values["assoc-growth"] > 1
    assert values["fig-ar1-sizes"].startswith("<Figure")


def test_polynomial_and_closed_form(values):
    assert values["poly-steps"] >= 2 and values["poly-max-coef"] > 4.0 ** values["poly-steps"]
    # The closed form goes wrong once 0.9**t underflows, after thousands of steps, not at once.
    assert 1_000 < values["ex-closed-form-first-bad"] < 10_000


def test_result_checks_are_in_the_lecture(lecture):
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "np.testing.assert_array_equal(walk, running_sum(shocks))",
        "np.testing.assert_allclose(x, x_loop, rtol=1e-12, atol=1e-12)",
        "np.testing.assert_allclose(x_hs, x_loop, rtol=1e-12, atol=1e-12)",
        "assert list(composition[\"degree\"]) == [2**k for k in range(1, 7)]",
        "np.testing.assert_allclose(linear_recurrence(jnp.asarray(gross)",
        "np.testing.assert_array_equal(running_max, np.maximum.accumulate(walk))",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_deterministic_tables_are_compared_between_builds(lecture):
    """Not tagged timing, so `make check-determinism` compares them."""
    for snippet in ["work_depth = pd.DataFrame", "rounds_bound = pd.DataFrame", "composition = pd.DataFrame",
                    "differences = pd.Series"]:
        assert "timing" not in tags(lecture(LECTURE).cell(snippet)), snippet
