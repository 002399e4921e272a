"""The JAX jit-and-vmap lecture executed, checked its results, and glued what its prose relies on.

Timings vary from build to build, so these tests check that measured values exist
and are sane, and that the relations the prose states hold, never speed targets.
"""

import math
import re

import numpy as np
import pytest

import lecture_utils as lu

LECTURE = "jax_intro"

POSITIVE = [
    "float32-eps", "jit-first-call-ratio", "dispatch-ratio", "unrolled-vs-fori-compile",
    "jit-temp-arrays", "jit-vs-op-by-op", "cols-vmap-speedup", "cols-apply-speedup",
    "cols-vmap-vs-broadcast", "cos-share-np", "cos-share-xla", "busy-np", "busy-fused",
    "eager-vs-numpy-ratio", "jit-vs-numpy-ratio", "jit-vs-eager-ratio", "cos-np-vs-xla-ratio",
]
TIMES = [
    "jit-first-call", "jit-run", "compile-stage", "trace-lower-stage", "dispatch-time", "blocked-time",
    "unrolled-first-call", "fori-first-call",
]
SENTENCES = ["wrong-sentence", "cos-sentence", "threads-sentence"]
COMPARISONS = {  # phrase glued by `compare` -> the ratio it was worded from
    "eager-vs-numpy": "eager-vs-numpy-ratio",
    "jit-vs-numpy": "jit-vs-numpy-ratio",
    "jit-vs-eager": "jit-vs-eager-ratio",
    "cos-np-vs-xla": "cos-np-vs-xla-ratio",
    "cols-sentence": "cols-vmap-vs-broadcast",
}
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
        elif out["output_type"] in ("execute_result", "display_data"):
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
    for name in TIMES:
        assert values[name].split()[-1] in {"s", "ms", "µs", "ns"}, (name, values[name])
    for name in SENTENCES:
        assert isinstance(values[name], str) and len(values[name]) > 20, name
    assert values["fig-cpu-vs-numpy"].startswith("<Figure")
    assert values["n-devices"] >= 1 and isinstance(values["backend"], str)
    assert values["cores"] >= 1


def test_float32_facts(values):
    assert values["float32-eps"] == pytest.approx(float(np.finfo(np.float32).eps))
    error = values["float32-rel-error"]
    assert isinstance(error, float) and 0 <= error <= values["float32-eps"]  # "within machine epsilon"


def test_compilation_counts(values):
    # Five calls, two distinct shapes: two compilations; the static version likewise.
    assert values["n-calls"] == 5
    assert values["n-traces"] == 2
    assert values["n-static-traces"] == 2
    assert values["loop-steps"] >= 1


def test_memory_figures(values):
    n = values["grid-n"]
    assert values["mesh-bytes"] == 2 * n * n * 4  # two float32 N x N coordinate arrays
    assert values["mesh-mib"] == lu.format_bytes(2 * n * n * 4)
    assert values["values-mib"] == lu.format_bytes(n * n * 4)
    assert values["grid-bytes"] == lu.format_bytes(2 * n * 4)
    assert values["tracemalloc-np"].endswith("MiB")  # NumPy's meshgrid is seen by tracemalloc
    assert values["tracemalloc-jax"].endswith(("B", "KiB"))  # XLA buffers are invisible to tracemalloc


def test_sentences_follow_the_measurements(values):
    for phrase, ratio_name in COMPARISONS.items():
        ratio, text = values[ratio_name], values[phrase]
        if ratio > 1.1:
            assert text == f"{ratio:.1f} times faster than", (phrase, text, ratio)
        elif ratio < 1 / 1.1:
            assert text == f"{1 / ratio:.1f} times slower than", (phrase, text, ratio)
        else:
            assert text.startswith("about as fast as"), (phrase, text, ratio)
    assert ("Threads play no part" in values["threads-sentence"]) == (values["busy-fused"] <= 1.2)
    assert ("essentially all of it" in values["cos-sentence"]) == (values["cos-share-xla"] > 85)
    assert "equals the true grid maximum" in values["wrong-sentence"] or "differs" in values["wrong-sentence"]


def test_checks_ran_without_errors_or_stderr(code_cells):
    for cell in code_cells:
        for out in cell["outputs"]:
            assert out["output_type"] != "error", source(cell)[:200]
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"stderr in cell:\n{source(cell)[:200]}\n{''.join(out['text'])[:500]}")
        assert not LOCAL_PATH.search(text_output(cell)), source(cell)[:200]
    for snippet in [
        "np.testing.assert_allclose(max64, reference64, rtol=1e-14)",
        "assert rel_error32 <= np.finfo(np.float32).eps",
        "np.testing.assert_allclose(float(grid_max_jit(grid)), reference32",
        "np.testing.assert_allclose(float(compiled(grid)), reference32",
        'assert traces == [f"float32[{N}]", f"float32[{N // 2}]"]',
        "assert static_traces == [N, N // 2]",
        "np.testing.assert_allclose(by_cond, expected",
        "np.testing.assert_allclose(t.result, loop_reference",
        "np.testing.assert_array_equal(values_vmap, values_mesh)",
        "assert X.nbytes + Y.nbytes == 2 * N * N * 4",
        "np.testing.assert_allclose(result, col_reference",
        "np.testing.assert_allclose(candidate, elementwise_reference",
        "np.testing.assert_allclose(cos_jit(R2), np.cos(R2_np)",
        "np.testing.assert_allclose(float(grid_max_padded(n))",
        "np.testing.assert_allclose(maxima, loop_maxima",
    ]:
        cells = [c for c in code_cells if snippet in source(c)]
        assert cells, f"no cell contains {snippet!r}"
        for cell in cells:
            assert cell.get("execution_count") is not None, f"cell with {snippet!r} did not run"


def test_what_the_prose_shows(code_cells, values):
    n = values["grid-n"]
    assert "TypeError: JAX arrays are immutable" in text_output(the_cell(code_cells, "small[0] = 10.0"))
    jaxpr = text_output(the_cell(code_cells, "jax.make_jaxpr(grid_max)"))
    assert "cos" in jaxpr and "f32[4,4]" in jaxpr and "\x1b[" not in jaxpr
    tracing = text_output(the_cell(code_cells, 'print("  tracing with", grid)'))
    assert tracing.count("tracing with") == 1  # traced on the first of three calls only
    table = text_output(the_cell(code_cells, "grid_max_counted(argument)"))
    assert table.count("traced and compiled") == 2 and table.count("cached") == 3
    for snippet, error in [("jax.jit(grid_max_of_size)(N)", "ConcretizationTypeError:"),
                           ("f_disc_if(0.5, 0.5)", "TracerBoolConversionError:")]:
        out = text_output(the_cell(code_cells, snippet))
        assert out.startswith(error) and not re.search(r" at \S+:\d+", out)
    assert f"shape: ({n},)" in text_output(the_cell(code_cells, "wrong = f(grid, grid)"))
    shapes = text_output(the_cell(code_cells, "by_columns = jax.jit(jax.vmap(standardise"))
    assert "(1000, 2000)" in shapes and "(2000, 1000)" in shapes
    exercise = text_output(the_cell(code_cells, "grid_max_padded(n)"))
    assert "the static version compiled 10 times, the padded version 1 time(s)" in exercise
