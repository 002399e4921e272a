"""The choosing lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records. These tests check
the relations the prose states between measured values, the verdict records
behind its rankings, and the cross-check with hardware_limits, never speed targets.
"""

import re

import pytest

from conftest import source, tags, text_output

LECTURE = "choosing"
NUMBERS = re.compile(r"^([0-9.]+) \(95 % interval ([0-9.]+) to ([0-9.]+)\)$")


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def numbers(text):
    """(ratio, low, high) from a ratio glued as numbers: '1.12 (95 % interval 1.11 to 1.14)'."""
    match = NUMBERS.match(text)
    assert match, text
    return tuple(float(x) for x in match.groups())


def test_checks_ran(lecture):
    for name in ["profile", "vmap-memory", "same-program"]:
        lecture(LECTURE).checked(name)


def test_profile_finds_the_loop(values):
    # "The Python loop took X % of the run and the grid maximum Y %."
    assert values["profile-loop-share"] > 50 > values["profile-grid-share"]


def test_cross_check_with_hardware_limits(lecture, values):
    """Both pages time NumPy and the serial Numba loop on the same N x N grid: their medians agree."""
    other = lecture("hardware_limits").glued
    for key in ["xcheck-numpy-seconds", "xcheck-numba-seconds"]:
        ours, theirs = values[key], other[key]
        assert isinstance(ours, float) and isinstance(theirs, float), (key, ours, theirs)
        assert 1 / 1.35 <= ours / theirs <= 1.35, f"{key}: choosing {ours:.4f} s, hardware_limits {theirs:.4f} s"


def test_threads_are_isolated_against_the_same_code_on_one_thread(values):
    threads = values["threads"]
    gain = values["threads-gain-verdict"]
    assert gain["version"] == f"the prange loop on {threads} threads"
    assert gain["baseline"] == "the prange loop on one thread"
    assert values["prange1-vs-serial-verdict"]["baseline"] == "the serial Numba loop"
    assert values["prange-vs-numpy-verdict"]["baseline"] == "NumPy"
    # "an efficiency of E % (interval ...)": the threads' ratio over the thread count
    assert values["efficiency"] == pytest.approx(100 * gain["ratio"] / threads)
    # the efficiency is flagged exactly when even its interval's low end is above 100 %
    assert ("above 100 %" in values["efficiency-note"]) == (gain["low"] > threads)
    # the numbers glued beside the verdicts are the same records' ratios
    assert values["threads-gain-ratio"] == pytest.approx(gain["ratio"])
    assert numbers(values["threads-gain-numbers"])[0] == pytest.approx(gain["ratio"], abs=0.005)
    assert values["prange1-vs-serial-ratio"] == pytest.approx(values["prange1-vs-serial-verdict"]["ratio"])
    assert values["prange-ratio"] == pytest.approx(values["prange-vs-numpy-verdict"]["ratio"])


def test_the_three_factors_multiply_to_about_the_whole(values):
    # "The three factors multiply to about the whole: P against S x O x T."
    product = values["serial-ratio"] * values["prange1-vs-serial-ratio"] * values["threads-gain-ratio"]
    assert 1 / 1.2 < values["prange-ratio"] / product < 1.2, (values["prange-ratio"], product)


def test_jit_and_vmap_are_an_a_a_control(values):
    # "JAX's jit and vmap compile to the same program ...: where identical code should give 1."
    ratio, low, high = numbers(values["jit-vmap-numbers"])
    assert low <= ratio <= high
    assert 1 / 1.15 < values["jit-vmap-ratio"] < 1.15, values["jit-vmap-numbers"]


def test_the_pause_outlasts_the_spin(values):
    # "Right after a call the prange loop's pool kept S cores busy, and P after the pause."
    assert values["spin-prange-after-pause"] < 0.05
    assert values["spin-prange"] > values["spin-prange-after-pause"]


def test_other_versions_are_given_as_numbers(values):
    for key in ["numexpr", "jit", "vmap", "eager"]:
        ratio, low, high = numbers(values[f"others-{key}-numbers"])
        assert low <= ratio <= high, key


def test_compilation_on_one_core_is_given_as_a_number(values):
    # "A gain that small ... the page gives it as a number, not as a verdict."
    ratio, low, high = numbers(values["serial-vs-numpy-numbers"])
    assert low <= ratio <= high and ratio < 1.5


def test_the_cosine_dominates(values):
    # "On one core, np.cos alone took X % of NumPy's time for the whole grid maximum."
    assert 50 < values["cos-share"] <= 100


def test_xla_cosine_is_no_faster_than_numpys(values):
    ratio, low, high = numbers(values["cos-xla-numbers"])
    assert low <= ratio <= high
    assert not (low > 1 and ratio > 1.05), values["cos-xla-numbers"]


def test_torch_compile_claims(values):
    if not values["torch-compile-ran"]:
        assert "no C++ compiler" in values["tc-vs-numpy"]
        pytest.skip("torch.compile did not run in this build (no C++ compiler)")
    # "stands apart": faster than NumPy, than the prange loop, and than the version closest to it
    assert values["tc-vs-numpy-verdict"]["verdict"] == "faster"
    assert values["tc-vs-prange-verdict"]["verdict"] == "faster"
    assert values["tc-vs-prange-verdict"]["baseline"] == f"the prange loop on {values['threads']} threads"
    ratio, low, high = numbers(values["tc-lead-numbers"])
    assert values["tc-lead-low"] > 1 and ratio > 1.05, values["tc-lead-numbers"]
    # the break-even of the guide: a range of calls, low end first
    first, last = (int(n) for n in re.fullmatch(r"(\d+) to (\d+)", values["tc-break-even"]).groups())
    assert 1 <= first <= last
    # "per core ... beats both NumPy and PyTorch's own operation-at-a-time execution"
    assert values["core-tc-verdict"]["verdict"] == "faster"
    assert values["core-tc-vs-eager-verdict"]["baseline"] == "eager PyTorch"
    assert values["core-tc-vs-eager-verdict"]["verdict"] == "faster"
    # "One fused kernel ... computes the whole grid maximum"
    assert values["tc-kernels"] == 1
    # "a faster cosine"
    assert values["cos-torch-verdict"]["verdict"] == "faster"


def test_threads_without_being_asked(values):
    # "These versions use threads without being asked: numexpr, PyTorch and XLA's CPU runtime."
    # and the table of tools: NumPy's ufuncs such as np.cos run on one thread (with the pause, no
    # other pool's spinning threads are charged to NumPy)
    assert values["busy-numpy"] < 1.2
    if values["threads"] == 1:
        pytest.skip("one thread: no pool can add a busy core")
    for name in ["numexpr", "eager", "jit"]:
        assert values[f"busy-{name}"] > max(1.15, values["busy-numpy"] + 0.1), name


def test_numexpr_max_runs_on_one_thread(values):
    # "numexpr has a max reduction too, but it runs on one thread (measured below)"
    assert values["numexpr-max-busy"] < 1.1
    if values["threads"] > 1:
        assert values["numexpr-max-busy"] < values["busy-numexpr"]


def test_xla_program(values):
    # "N of them write an N x N array: one x^2 + y^2, the other x^2 + y^2 again with its cosine"
    assert values["xla-full-steps"] == 2 == round(values["jit-arrays"])
    assert values["xla-squares"] == 2
    assert values["xla-cosine-steps"] == 1
    assert values["xla-steps"] == 3
    # "Each loop is split into P partitions for XLA's threads, which on one core take turns"
    if values["threads"] > 1:
        assert values["xla-partitions"] > 1


def test_compile_costs(values):
    # "JAX's jit compiled in C, the time of K NumPy calls"
    assert values["jit-compile-calls"] > 0


def test_memory_relations(values):
    # "XLA kept J of them for the jit version and exactly as many for the vmap version"
    assert values["jit-arrays"] == values["vmap-arrays"]
    # "numexpr's ... (its result; it computes in blocks)"
    assert values["numexpr-arrays"] == pytest.approx(1.0, abs=0.05)
    assert values["numpy-arrays"] > values["numexpr-arrays"]


def test_recurrence(values):
    assert values["map-numba-verdict"]["verdict"] == "faster"
    assert values["map-numba-verdict"]["baseline"] == "the Python loop"
    assert values["map-scan-verdict"]["baseline"] == "the Numba loop"
    # "each step needs the one before, so no second thread can help"
    assert values["map-busy-numba"] < 1.2


def test_block_exercise(values):
    ratio, low, high = numbers(values["blocks-1-numbers"])
    assert low <= ratio <= high
    # "By the rule (the smallest block the table finds faster), the choice is B: it ran ... as fast"
    chosen = values["blocks-chosen-vs-whole-verdict"]
    assert chosen["baseline"] == "the whole grid" and chosen["version"] == values["blocks-chosen"]
    assert chosen["verdict"] == "faster"
    assert values["blocks-chosen-peak"].split()[-1] in {"B", "KiB", "MiB"}
    # "One temporary of the block takes T, less than the L3 cache; a whole-grid temporary ... more"
    assert values["blocks-temp-fits-l3"] is True
    assert values["whole-temp-exceeds-l3"] is True
    # "The cosine ... took C % of the whole-grid time, which bounds what blocking can save"
    assert chosen["ratio"] < 1.15 * 100 / values["cos-share"]


def test_small_grid_threads_are_given_as_numbers(values):
    for key in ["small-threads-numbers", "small-prange-numbers"]:
        ratio, low, high = numbers(values[key])
        assert low <= ratio <= high, key


def test_comparisons_are_interleaved_and_tagged(lecture):
    lec = lecture(LECTURE)
    for snippet in ["grid_cmp = lu.compare(", "core_cmp = lu.compare(", "cos_cmp = lu.compare(",
                    "map_cmp = lu.compare(", "small_cmp = lu.compare(", "block_cmp = lu.compare("]:
        cell = lec.cell(snippet)
        assert "timing" in tags(cell), snippet
    assert "with lu.one_core():" in source(lec.cell("core_cmp = lu.compare("))
    # a pause before each sample, so that a spinning pool is not charged to the next version
    for snippet in ["grid_cmp = lu.compare(", "small_cmp = lu.compare(", "core_cmp = lu.compare("]:
        assert "pause=PAUSE" in source(lec.cell(snippet)), snippet
    assert "numba.set_num_threads(threads)" in source(lec.cell("def numba_threads("))
    # the table a reader ranks by shows the verdict and interval of every version
    table = text_output(lec.cell("grid_cmp = lu.compare("))
    assert "speed ratio [95 % interval]" in table and "verdict" in table
    for version in ["numexpr", "JAX's vmap", "eager PyTorch"]:
        assert version in table, version


def test_recurrence_is_checked_against_the_python_loop_before_timing(lecture):
    lec = lecture(LECTURE)
    check = lec.cell("reference_path = quadratic_map_python(X0, CHECK_STEPS)")
    assert "np.testing.assert_allclose(path, reference_path, rtol=CHECK_RTOL" in source(check)
    cells = lec.code_cells
    assert cells.index(check) < cells.index(lec.cell("map_cmp = lu.compare("))
