"""The first lecture produced what its prose relies on."""

import math

import pytest

from conftest import text_output

LECTURE = "first_measurement"


def test_glued_values_exist_and_are_sane(lecture):
    values = lecture(LECTURE).glued
    for figure in ["fig-surface", "fig-three-versions"]:
        assert values[figure].startswith("<Figure"), figure
    for name in ["speedup-numpy", "speedup-numba", "numba-compile-ratio"]:
        assert isinstance(values[name], float) and math.isfinite(values[name]) and values[name] > 0, name
    # The prose says the first call is slower than later ones "because it includes the compilation".
    assert values["numba-compile-ratio"] > 1
    for name in ["numba-first-call", "numba-run"]:
        assert values[name].split()[-1] in {"s", "ms", "µs", "ns"}, name


def test_reference_maximum_is_checked_and_correct(lecture):
    out = text_output(lecture(LECTURE).cell("reference = grid_max_python(grid)"))
    maximum = float(out.strip().removeprefix("np.float64(").rstrip(")"))
    assert maximum == pytest.approx(1.0, abs=1e-4) and maximum < 1.0  # even N: origin not on the grid
