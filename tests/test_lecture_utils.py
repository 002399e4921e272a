"""Unit tests for lectures/lecture_utils.py."""

import math
import time

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import lecture_utils as lu  # noqa: E402  (path set in conftest)


class SlowFuture:
    """Stands in for a JAX array: the work finishes only when waited for."""

    def __init__(self, delay):
        self.delay = delay
        self.waited = False

    def block_until_ready(self):
        time.sleep(self.delay)
        self.waited = True
        return self


# --- glue -------------------------------------------------------------------


def test_glue_in_site_build_calls_myst_nb(monkeypatch):
    import myst_nb

    calls = []
    monkeypatch.setenv(lu.SITE_BUILD_ENV, "1")
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: calls.append((name, value, display)))
    lu.glue("answer", 42.0)
    assert calls == [("answer", 42.0, False)]


def test_glue_outside_site_build_shows_figures_only(monkeypatch):
    import IPython.display
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.delenv(lu.SITE_BUILD_ENV, raising=False)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    fig = plt.figure()
    lu.glue("fig", fig)
    lu.glue("number", 3.0)
    lu.glue("shown-number", 4.0, display=True)
    plt.close(fig)
    assert shown == [fig, 4.0]


@pytest.mark.parametrize("bad", ["", None, 3])
def test_glue_rejects_bad_names(bad):
    with pytest.raises(ValueError, match="non-empty string name"):
        lu.glue(bad, 1.0)


# --- timeit -----------------------------------------------------------------


def test_timeit_counts_warmup_and_repeats_separately():
    calls = []
    t = lu.timeit(lambda: calls.append(1), repeat=4, number=3, label="append")
    assert len(calls) == 1 + 4 * 3
    assert t.repeat == 4 and len(t.times) == 4
    assert t.compile_time is not None
    assert t.label == "append"


def test_timeit_without_warmup_has_no_compile_time():
    calls = []
    t = lu.timeit(lambda: calls.append(1), repeat=2, warmup=False)
    assert len(calls) == 2
    assert t.compile_time is None


def test_timeit_reports_time_per_call_and_statistics():
    t = lu.timeit(time.sleep, 0.01, repeat=3, number=2)
    assert all(0.009 <= x < 0.05 for x in t.times)
    assert t.minimum <= t.median
    assert t.median == pytest.approx(float(np.median(t.times)))


def test_timeit_keeps_warmup_out_of_run_times():
    state = {"first": True}

    def compiles_once():
        if state["first"]:
            state["first"] = False
            time.sleep(0.05)

    t = lu.timeit(compiles_once, repeat=3)
    assert t.compile_time >= 0.05
    assert max(t.times) < 0.05


def test_timeit_waits_for_asynchronous_results():
    futures = []

    def dispatch():
        futures.append(SlowFuture(0.02))
        return futures[-1]

    t = lu.timeit(dispatch, repeat=3)
    assert all(f.waited for f in futures)
    assert t.minimum >= 0.02


def test_timeit_returns_the_result_and_passes_arguments():
    t = lu.timeit(np.add, 2, 3, repeat=1)
    assert t.result == 5
    assert lu.timeit(sorted, [3, 1, 2], reverse=True, repeat=1).result == [3, 2, 1]


def test_timeit_label_defaults_to_function_name():
    assert lu.timeit(np.sort, np.arange(3), repeat=1).label == "sort"


@pytest.mark.parametrize("bad", [0, -1])
def test_timeit_rejects_repeat_below_one(bad):
    with pytest.raises(ValueError, match="repeat must be at least 1"):
        lu.timeit(np.sort, np.arange(3), repeat=bad)


@pytest.mark.parametrize("bad", [1.5, "3", True, None])
def test_timeit_rejects_non_integer_repeat(bad):
    with pytest.raises(TypeError, match="repeat must be an integer"):
        lu.timeit(np.sort, np.arange(3), repeat=bad)


def test_timeit_rejects_number_below_one():
    with pytest.raises(ValueError, match="number must be at least 1"):
        lu.timeit(np.sort, np.arange(3), number=0)


def test_timeit_rejects_non_callable():
    with pytest.raises(TypeError, match="func must be callable"):
        lu.timeit(np.arange(3))


def test_timing_str_mentions_label_median_and_first_call():
    t = lu.Timing("demo", (0.002, 0.001, 0.003), compile_time=0.5)
    text = str(t)
    assert "demo" in text and "2 ms" in text and "1 ms" in text and "500 ms" in text


# --- block ------------------------------------------------------------------


def test_block_waits_inside_containers():
    items = [SlowFuture(0), {"a": SlowFuture(0)}, (SlowFuture(0),)]
    assert lu.block(items) is items
    assert items[0].waited and items[1]["a"].waited and items[2][0].waited


def test_block_passes_plain_values_through():
    x = np.arange(3)
    assert lu.block(x) is x
    assert lu.block(3.0) == 3.0


def test_block_waits_for_jax_arrays():
    jnp = pytest.importorskip("jax.numpy")
    x = jnp.ones(1000) * 2
    assert lu.block(x) is x
    assert float(x.sum()) == 2000.0


# --- speedup_table ----------------------------------------------------------


def timing(label, seconds, result=1.0, compile_time=None):
    return lu.Timing(label, (seconds, seconds), compile_time=compile_time, result=result)


def test_speedup_table_divides_baseline_median_by_each():
    table = lu.speedup_table([timing("slow", 2.0), timing("fast", 0.5, compile_time=1.0)])
    assert table.loc["slow", "speedup"] == pytest.approx(1.0)
    assert table.loc["fast", "speedup"] == pytest.approx(4.0)
    assert table.loc["fast", "first_call_s"] == pytest.approx(1.0)
    assert math.isnan(table.loc["slow", "first_call_s"])
    assert list(table.columns) == ["median_s", "min_s", "first_call_s", "speedup"]


def test_speedup_table_uses_named_baseline():
    table = lu.speedup_table([timing("slow", 2.0), timing("fast", 0.5)], baseline="fast")
    assert table.loc["slow", "speedup"] == pytest.approx(0.25)


def test_speedup_table_rejects_mismatched_results():
    good = timing("reference", 1.0, result=np.array([1.0, 2.0]))
    bad = timing("broken", 0.1, result=np.array([1.0, 2.1]))
    with pytest.raises(ValueError, match="'broken' gives a different result from baseline 'reference'"):
        lu.speedup_table([good, bad])


def test_speedup_table_tolerance_is_adjustable():
    f64 = timing("float64", 1.0, result=np.array([1.0]))
    f32 = timing("float32", 0.5, result=np.array([1.0 + 1e-6], dtype=np.float32))
    with pytest.raises(ValueError):
        lu.speedup_table([f64, f32])
    assert lu.speedup_table([f64, f32], rtol=1e-5).loc["float32", "speedup"] == pytest.approx(2.0)


def test_speedup_table_can_skip_the_check():
    table = lu.speedup_table([timing("a", 1.0, result="x"), timing("b", 1.0, result="y")], check=False)
    assert len(table) == 2


def test_speedup_table_rejects_unknown_baseline():
    with pytest.raises(ValueError, match="baseline 'nope' is not one of the labels"):
        lu.speedup_table([timing("a", 1.0)], baseline="nope")


def test_speedup_table_rejects_duplicate_labels():
    with pytest.raises(ValueError, match="labels must be distinct"):
        lu.speedup_table([timing("a", 1.0), timing("a", 2.0)])


def test_speedup_table_rejects_empty_and_wrong_types():
    with pytest.raises(ValueError, match="at least one Timing"):
        lu.speedup_table([])
    with pytest.raises(TypeError, match="takes Timing objects"):
        lu.speedup_table([1.0])


def test_format_table_gives_units_and_speedups():
    table = lu.speedup_table([timing("slow", 2.0), timing("fast", 0.5, compile_time=0.0123)])
    text = lu.format_table(table)
    assert list(text.columns) == ["median", "fastest", "first call", "speedup"]
    assert text.loc["fast"].tolist() == ["500 ms", "500 ms", "12.3 ms", "4.0x"]
    assert text.loc["slow", "first call"] == "-"


def test_format_table_rejects_other_tables():
    import pandas as pd

    with pytest.raises(ValueError, match="output of speedup_table"):
        lu.format_table(pd.DataFrame({"a": [1]}))


# --- peak_memory and formatting ----------------------------------------------


def test_peak_memory_sees_numpy_allocations():
    result, peak = lu.peak_memory(np.ones, 1_000_000)
    assert result.shape == (1_000_000,)
    assert 8_000_000 <= peak < 9_000_000


def test_peak_memory_counts_temporaries_that_are_freed():
    def with_temporary():
        ones = np.ones(1_000_000)
        twos = ones * 2  # two 8 MB arrays alive at once
        return float(twos.sum())

    _, peak = lu.peak_memory(with_temporary)
    assert peak >= 16_000_000


def test_peak_memory_rejects_non_callable():
    with pytest.raises(TypeError, match="func must be callable"):
        lu.peak_memory(42)


@pytest.mark.parametrize(
    "seconds, text",
    [(2.5, "2.5 s"), (0.0123, "12.3 ms"), (4.56e-6, "4.56 µs"), (7e-9, "7 ns"), (0, "0 s"), (120, "120 s")],
)
def test_format_time(seconds, text):
    assert lu.format_time(seconds) == text


@pytest.mark.parametrize("n, text", [(512, "512 B"), (8_000_000, "7.63 MiB"), (3 * 2**30, "3 GiB")])
def test_format_bytes(n, text):
    assert lu.format_bytes(n) == text


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_formatters_reject_impossible_values(bad):
    with pytest.raises(ValueError):
        lu.format_time(bad)
    with pytest.raises(ValueError):
        lu.format_bytes(bad)


# --- plotting ---------------------------------------------------------------


def test_style_uses_colour_blind_safe_cycle():
    lu.use_style()
    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == lu.COLORS


def test_bar_timings_draws_one_bar_per_version():
    fig = lu.bar_timings([timing("a", 1e-3), timing("b", 2e-3)], title="t")
    ax = fig.axes[0]
    assert len(ax.patches) == 2
    assert "ms" in ax.get_xlabel()
    positions = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}
    assert positions["a"] > positions["b"]  # first version on top


def test_bar_timings_log_scale_uses_dots_not_bars():
    fig = lu.bar_timings([timing("a", 1e-3), timing("b", 1.0)], title="t", log=True)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert len(ax.patches) == 0
    assert len(ax.collections[-1].get_offsets()) == 2
    assert {t.get_text() for t in ax.texts} == {"1 ms", "1 s"}


def test_bar_timings_rejects_empty():
    with pytest.raises(ValueError, match="at least one Timing"):
        lu.bar_timings([], title="t")


def test_scaling_plot_speedup_has_ideal_line():
    fig = lu.scaling_plot([1, 2], [1.0, 0.6], xlabel="threads", title="t")
    lines = fig.axes[0].get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[0].get_ydata(), [1.0, 1 / 0.6])
    np.testing.assert_allclose(lines[1].get_ydata(), [1.0, 2.0])


def test_scaling_plot_time_ideal_halves_with_double_threads():
    fig = lu.scaling_plot([1, 2, 4], {"a": [4.0, 2.5, 1.5], "b": [1, 1, 1]}, xlabel="threads", title="t", kind="time")
    lines = fig.axes[0].get_lines()
    assert len(lines) == 3
    np.testing.assert_allclose(lines[-1].get_ydata(), [4.0, 2.0, 1.0])


def test_scaling_plot_rejects_bad_input():
    with pytest.raises(ValueError, match="kind must be"):
        lu.scaling_plot([1, 2], [1, 1], xlabel="x", title="t", kind="bogus")
    with pytest.raises(ValueError, match="has 1 values for 2 x values"):
        lu.scaling_plot([1, 2], [1.0], xlabel="x", title="t")
    with pytest.raises(ValueError, match="non-positive time"):
        lu.scaling_plot([1, 2], [1.0, 0.0], xlabel="x", title="t")
    with pytest.raises(ValueError, match="at least two x values"):
        lu.scaling_plot([1], [1.0], xlabel="x", title="t")


# --- machine summary --------------------------------------------------------


def test_machine_summary_describes_this_machine():
    import os

    info = lu.machine_summary()
    for key in ["CPU", "physical cores", "logical cores", "memory", "accelerators", "Python", "numpy"]:
        assert info[key], key
    assert int(info["logical cores"]) == os.cpu_count()
    assert info["numpy"] == np.__version__
    assert all(isinstance(v, str) for v in info.values())
