"""The JAX jit-and-vmap lecture checked its results and glued what its prose relies on.

tests/test_lectures.py checks what every lecture must do (it ran without errors or
stderr, timing cells are tagged, ...); this file checks what this lecture claims.
Timings vary from build to build, so these tests check that measured values exist
and are sane, and that the relations the prose states hold, never speed targets.
"""

import math
import re

import numpy as np
import pytest

import lecture_utils as lu
from conftest import source, text_output

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

def test_numbers_exist_and_are_sane(lecture):
    values = lecture(LECTURE).glued
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


def test_float32_facts(lecture):
    values = lecture(LECTURE).glued
    assert values["float32-eps"] == pytest.approx(float(np.finfo(np.float32).eps))
    error = values["float32-rel-error"]
    assert isinstance(error, float) and 0 <= error <= values["float32-eps"]  # "within machine epsilon"


def test_compilation_counts(lecture):
    values = lecture(LECTURE).glued
    # Five calls, two distinct shapes: two compilations; the static version likewise.
    assert values["n-calls"] == 5
    assert values["n-traces"] == 2
    assert values["n-static-traces"] == 2
    assert values["loop-steps"] >= 1


def test_memory_figures(lecture):
    values = lecture(LECTURE).glued
    n = values["grid-n"]
    assert values["mesh-bytes"] == 2 * n * n * 4  # two float32 N x N coordinate arrays
    assert values["mesh-mib"] == lu.format_bytes(2 * n * n * 4)
    assert values["values-mib"] == lu.format_bytes(n * n * 4)
    assert values["grid-bytes"] == lu.format_bytes(2 * n * 4)
    assert values["tracemalloc-np"].endswith("MiB")  # NumPy's meshgrid is seen by tracemalloc
    assert values["tracemalloc-jax"].endswith(("B", "KiB"))  # XLA buffers are invisible to tracemalloc


def test_sentences_follow_the_measurements(lecture):
    values = lecture(LECTURE).glued
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


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results against a reference are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
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
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_what_the_prose_shows(lecture):
    lec = lecture(LECTURE)
    n = lec.glued["grid-n"]
    assert "TypeError: JAX arrays are immutable" in text_output(lec.cell("small[0] = 10.0"))
    jaxpr = text_output(lec.cell("jax.make_jaxpr(grid_max)"))
    assert "cos" in jaxpr and "f32[4,4]" in jaxpr and "\x1b[" not in jaxpr
    tracing = text_output(lec.cell('print("  tracing with", grid)'))
    assert tracing.count("tracing with") == 1  # traced on the first of three calls only
    table = text_output(lec.cell("grid_max_counted(argument)"))
    assert table.count("traced and compiled") == 2 and table.count("cached") == 3
    for snippet, error in [("jax.jit(grid_max_of_size)(N)", "ConcretizationTypeError:"),
                           ("f_disc_if(0.5, 0.5)", "TracerBoolConversionError:")]:
        out = text_output(lec.cell(snippet))
        assert out.startswith(error) and not re.search(r" at \S+:\d+", out)
    assert f"shape: ({n},)" in text_output(lec.cell("wrong = f(grid, grid)"))
    shapes = text_output(lec.cell("by_columns = jax.jit(jax.vmap(standardise"))
    assert "(1000, 2000)" in shapes and "(2000, 1000)" in shapes
    exercise = text_output(lec.cell("grid_max_padded(n)"))
    assert "the static version compiled 10 times, the padded version 1 time(s)" in exercise
