"""The Numba parallel-loops lecture executed, checked its results, and glued what its prose relies on.

Timings vary from build to build, so these tests check that measured values exist
and are sane, and that the relations the prose states hold, never speed targets.
"""

import math
import re

import pytest

LECTURE = "numba_parallel"

POSITIVE = [
    "speedup-prange", "compile-ratio", "speedup-rows", "nested-vs-outer", "inner-vs-outer",
    "efficiency-max", "speedup-max", "one-thread-ratio", "tiny-ratio", "large-speedup",
    "blocks-vs-fused", "blocks-speedup", "grid-array-mib", "blas-vs-numba", "blas1-vs-numba",
    "numba-gflops", "blas-gflops", "matmul-prange-speedup", "fastmath-speedup", "reassoc-speedup",
    "alloc-ratio", "reassoc-matmul-speedup", "reassoc-blas-gap", "sum-parallel-vs-best",
]
NON_NEGATIVE = ["fastmath-rel-change", "serial-rel-error", "fastmath-rel-error", "reassoc-changed-percent"]
TIMES = ["serial-time", "parallel-time", "compile-serial", "compile-parallel", "tiny-serial", "tiny-parallel"]
SENTENCES = [
    "prange-sentence", "compile-sentence", "race-sentence", "nested-sentence", "inner-sentence",
    "one-thread-sentence", "crossover-sentence", "tiny-sentence", "blocks-sentence", "blas-sentence",
    "fastmath-digits-sentence", "shared-sentence", "rng-sentence", "reassoc-sentence",
]
LOCAL_PATH = re.compile(r"/(tmp|root|home|work|Users)/")


@pytest.fixture(scope="module")
def values(glued):
    return glued(LECTURE)


@pytest.fixture(scope="module")
def code_cells(executed_notebook):
    return [c for c in executed_notebook(LECTURE)["cells"] if c["cell_type"] == "code"]


def source(cell):
    return "".join(cell["source"])


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
        assert isinstance(values[name], str) and len(values[name]) > 20, name
    for name in ["fig-thread-scaling", "fig-size-sweep"]:
        assert values[name].startswith("<Figure"), name


def test_problem_sizes_and_derived_quantities(values):
    assert values["grid-n"] >= 2 and values["max-threads"] >= 1
    assert values["parallel-regions-inner"] == values["grid-n"]  # one parallel region per outer iteration
    assert values["grid-array-mib"] == pytest.approx(values["grid-n"] ** 2 * 8 / 2**20)
    assert values["sweep-smallest"] < values["sweep-largest"]
    assert values["matmul-n"] >= 2 and values["blas-threads"] >= 1
    # Efficiency is the speedup divided by the threads, at the largest thread count.
    assert values["efficiency-max"] == pytest.approx(values["speedup-max"] / values["max-threads"])
    assert 0 <= values["rng-same-fraction"] <= 1


def test_threading_layer_report(values):
    available = values["layers-available"].split(", ")
    assert set(available) <= {"tbb", "omp", "workqueue"} and available
    assert values["layer-used"] in available
    assert values["layer-priority"].split(", ")[0] == "tbb"


def test_race_counts_and_their_wording(values):
    runs, wrong = values["race-runs"], values["race-wrong-runs"]
    assert runs >= 1 and 0 <= wrong <= runs
    sentence = values["race-sentence"]
    if wrong == 0:
        assert "happened to return the reference" in sentence
    elif wrong == runs and "every one of" in sentence:
        assert str(runs) in sentence
    else:
        assert f"{wrong} of {runs} runs" in sentence
    shared_wrong = values["shared-wrong-runs"]
    assert 0 <= shared_wrong <= runs
    assert ("happened to count correctly" in values["shared-sentence"]) == (shared_wrong == 0)


def test_sentences_follow_the_measurements(values):
    crossover = values.get("crossover-n")
    if crossover is None:
        assert "never stayed faster" in values["crossover-sentence"]
    else:
        assert values["sweep-smallest"] <= crossover <= values["sweep-largest"]
        assert f"{crossover} x {crossover} grid" in values["crossover-sentence"]
    assert ("differs from the plain serial sum" in values["fastmath-digits-sentence"]) == (
        values["fastmath-rel-change"] > 0)
    assert ("not reproducible" in values["rng-sentence"]) == (values["rng-same-fraction"] < 1)
    assert ("costs more" in values["compile-sentence"]) == (values["compile-ratio"] > 1)
    assert ("still took" in values["reassoc-sentence"]) == (values["reassoc-blas-gap"] > 1)


def test_checks_ran_without_errors_or_stderr(executed_notebook, code_cells):
    for cell in code_cells:
        for out in cell["outputs"]:
            assert out["output_type"] != "error", source(cell)[:200]
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"stderr in cell:\n{source(cell)[:200]}\n{''.join(out['text'])[:500]}")
    for snippet in [
        "assert grid_max_parallel(grid) == reference",
        "assert grid_max_rows(grid) == reference",
        "assert kernel(grid) == reference",
        "assert grid_max_diagnosed(grid) == reference",
        'assert "rewritten as a serial loop" in report',
        "assert reduce_max(values) == values.max()",
        "assert grid_max_blocks(xx, yy) == reference",
        "np.testing.assert_allclose(matmul_parallel(a_mat, b_mat), c_ref",
        "np.testing.assert_allclose(func(data), exact, rtol=1e-12)",
        "assert total_parallel(ones) == VECTOR_SIZE",
        "assert grid_max_alloc(grid) == reference",
        "assert result == tuple(int(k) for k in expected)",
    ]:
        cells = [c for c in code_cells if snippet in source(c)]
        assert cells, f"no cell contains {snippet!r}"
        for cell in cells:
            assert cell.get("execution_count") is not None, f"cell with {snippet!r} did not run"


def test_reference_maximum(code_cells):
    cell = the_cell(code_cells, "reference = grid_max_serial(grid)")
    maximum = float(text_output(cell).strip().removeprefix("np.float64(").rstrip(")"))
    assert maximum == pytest.approx(1.0, abs=1e-4) and maximum < 1.0  # even N: origin not on the grid


def test_racy_demo_printed_its_count(code_cells):
    out = text_output(the_cell(code_cells, "racy_results = np.array("))
    assert "reference:" in out and "racy result" in out
    counts = [int(n) for n in re.findall(r": (\d+) of \d+ runs", out)]
    assert counts and sum(counts) == int(re.search(r"of (\d+) runs", out).group(1))


def test_diagnostics_shown_without_local_paths(code_cells):
    out = text_output(the_cell(code_cells, "report = diagnostics(grid_max_diagnosed)"))
    assert "Parallel loop listing" in out and "rewritten as a serial loop" in out
    assert "hoisted out of the parallel loop" in out
    assert "line 7: values = np.empty(n)" in out.split("hoisted allocations:")[1]
    assert not LOCAL_PATH.search(out)


def test_typing_error_shown_as_text(code_cells):
    out = text_output(the_cell(code_cells, "grid_max_calls_python(grid)"))
    assert out.startswith("TypingError:") and "profile_python" in out
    assert "\x1b[" not in out and not LOCAL_PATH.search(out)


def test_hidden_allocation_report(code_cells):
    out = text_output(the_cell(code_cells, "hoisted = hoisted_allocations(grid_max_alloc"))
    hoisted = out.split("hoisted allocations:")[1]
    assert "point * point" in hoisted and "np.array" not in hoisted  # what the prose says
    assert not LOCAL_PATH.search(out)


def test_spot_the_race_solution(code_cells):
    out = text_output(the_cell(code_cells, "wrong_rows = ["))
    assert "wrong rows in 10 runs" in out
    assert "both fixed versions agree" in out
