"""Shared helpers for the lectures: timing, speedup tables, plots, machine summary.

Every lecture times code through this module so that all pages follow the same
rules (see ``CONTRIBUTING.md``):

* the first call is a warm-up: it compiles (Numba, JAX) and fills caches, and
  it is reported separately as ``compile_time``, never mixed into run times;
* each run waits for asynchronous work (JAX ``block_until_ready``, PyTorch
  CUDA synchronisation) before its clock stops;
* runs are repeated and summarised by their median and minimum.

The clocks are quantecon's :func:`quantecon.timeit` and :class:`quantecon.Timer`.

Example
-------
>>> import numpy as np
>>> t = timeit(np.sort, np.arange(1000), repeat=5, label="sort")
>>> t.median > 0
True
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import math
import os
import platform
import sys
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import quantecon as qe

__all__ = [
    "SITE_BUILD_ENV",
    "in_site_build",
    "glue",
    "Timing",
    "block",
    "timeit",
    "speedup_table",
    "format_table",
    "peak_memory",
    "format_time",
    "format_bytes",
    "use_style",
    "COLORS",
    "bar_timings",
    "scaling_plot",
    "machine_summary",
]

# ---------------------------------------------------------------------------
# Putting values on the page
# ---------------------------------------------------------------------------

#: Set to "1" by the Makefile while it builds the site.
SITE_BUILD_ENV = "LECTURES_SITE_BUILD"


def in_site_build() -> bool:
    """True while the lecture is executed by the site's build (``make book``)."""
    return os.environ.get(SITE_BUILD_ENV) == "1"


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record ``value`` under ``name`` for the page, as :func:`myst_nb.glue` does.

    In the site's build this is :func:`myst_nb.glue`: the text refers to the
    value with ``{glue:text}`` and shows figures with ``{glue:figure}``.
    Run anywhere else (Jupyter, Colab, a downloaded notebook) there is no
    page to put the value on, so figures are shown where they are made and
    other values are shown only when ``display=True``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue needs a non-empty string name, got {name!r}")
    if in_site_build():
        from myst_nb import glue as myst_glue

        myst_glue(name, value, display=display)
    elif display or isinstance(value, mpl.figure.Figure):
        from IPython.display import display as show

        show(value)


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Timing:
    """Timing of one version of a computation.

    Attributes
    ----------
    label : str
        Name shown in tables and plots.
    times : tuple of float
        Seconds per call, one entry per timed run (warm-up excluded).
    compile_time : float or None
        Seconds taken by the first (warm-up) call, which includes any
        just-in-time compilation; ``None`` when no warm-up was run.
    result : object
        The value returned by the last run, kept so that versions can be
        checked against each other before they are compared.
    """

    label: str
    times: tuple[float, ...]
    compile_time: float | None = None
    result: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def median(self) -> float:
        """Median seconds per call."""
        return float(np.median(self.times))

    @property
    def minimum(self) -> float:
        """Fastest run, in seconds per call."""
        return float(min(self.times))

    @property
    def repeat(self) -> int:
        """Number of timed runs."""
        return len(self.times)

    def __str__(self) -> str:
        text = (
            f"{self.label}: median {format_time(self.median)}, "
            f"min {format_time(self.minimum)} over {self.repeat} runs"
        )
        if self.compile_time is not None:
            text += f" (first call {format_time(self.compile_time)})"
        return text


def block(value: Any) -> Any:
    """Wait until ``value`` (or every array inside it) has been computed.

    JAX dispatches work asynchronously and returns before the result exists;
    PyTorch does the same on a GPU.  A clock stopped before waiting measures
    only the dispatch.  This walks tuples, lists and dicts, calls
    ``block_until_ready()`` on JAX arrays and synchronises CUDA for PyTorch
    tensors that live on a GPU.  Anything else is returned unchanged.
    """
    if isinstance(value, (tuple, list)):
        for item in value:
            block(item)
        return value
    if isinstance(value, dict):
        for item in value.values():
            block(item)
        return value
    if hasattr(value, "block_until_ready"):
        value.block_until_ready()
        return value
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor) and value.is_cuda:
        torch.cuda.synchronize(value.device)
    return value


def _check_count(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def timeit(
    func: Callable[..., Any],
    *args: Any,
    repeat: int = 7,
    number: int = 1,
    warmup: bool = True,
    label: str | None = None,
    **kwargs: Any,
) -> Timing:
    """Time ``func(*args, **kwargs)`` and return a :class:`Timing`.

    Parameters
    ----------
    func : callable
        The computation to time.
    *args, **kwargs
        Passed to ``func`` on every call.
    repeat : int, default 7
        Number of timed runs (the median and minimum are taken over these).
    number : int, default 1
        Calls per run; use more than one for functions that take only a few
        microseconds, so that each run is long enough to time.  Times are
        reported per call.
    warmup : bool, default True
        Call ``func`` once before timing and record that call's duration as
        ``compile_time``.  Leave on for anything compiled just in time.
    label : str, optional
        Name for tables and plots; defaults to ``func.__name__``.

    Raises
    ------
    TypeError
        If ``func`` is not callable or ``repeat``/``number`` are not integers.
    ValueError
        If ``repeat`` or ``number`` is smaller than 1.
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__} {func!r}")
    _check_count("repeat", repeat, 1)
    _check_count("number", number, 1)
    if label is None:
        label = getattr(func, "__name__", type(func).__name__)

    compile_time = None
    if warmup:
        with qe.Timer(verbose=False) as clock:
            block(func(*args, **kwargs))
        compile_time = clock.elapsed

    last = []

    def one_run() -> None:
        for _ in range(number):
            out = block(func(*args, **kwargs))
        last[:] = [out]

    stats = qe.timeit(one_run, runs=int(repeat), verbose=False, results=True)
    times = tuple(t / number for t in stats["elapsed"])
    return Timing(label=label, times=times, compile_time=compile_time, result=last[0])


def _as_numpy(value: Any) -> Any:
    """Bring arrays from any library to NumPy for comparison."""
    if isinstance(value, (tuple, list)):
        return type(value)(_as_numpy(v) for v in value)
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # PyTorch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def speedup_table(
    timings: Sequence[Timing],
    baseline: str | None = None,
    *,
    rtol: float = 1e-7,
    atol: float = 0.0,
    check: bool = True,
):
    """Compare several timed versions of one computation.

    Before anything is compared, every version's result is checked against the
    baseline's with :func:`numpy.testing.assert_allclose`: a fast wrong answer
    must never reach a table.

    Parameters
    ----------
    timings : sequence of Timing
        One entry per version, with distinct labels.
    baseline : str, optional
        Label of the version speedups are quoted against (the best serial
        version, by the site's convention).  Defaults to the first entry.
    rtol, atol : float
        Tolerances for the result check.  Loosen ``rtol`` (to about 1e-5)
        when a float32 version is compared with a float64 one.
    check : bool, default True
        Set to False only when versions legitimately return different objects
        (the lecture must then check them some other way).

    Returns
    -------
    pandas.DataFrame
        Indexed by label, with columns ``median_s``, ``min_s``,
        ``first_call_s`` and ``speedup`` (baseline median / version median).

    Raises
    ------
    ValueError
        If ``timings`` is empty, labels repeat, ``baseline`` is unknown, or a
        version's result disagrees with the baseline's.
    """
    import pandas as pd

    timings = list(timings)
    if not timings:
        raise ValueError("speedup_table needs at least one Timing")
    for t in timings:
        if not isinstance(t, Timing):
            raise TypeError(f"speedup_table takes Timing objects, got {type(t).__name__}")
    labels = [t.label for t in timings]
    if len(set(labels)) != len(labels):
        raise ValueError(f"labels must be distinct, got {labels}")
    if baseline is None:
        baseline = labels[0]
    if baseline not in labels:
        raise ValueError(f"baseline {baseline!r} is not one of the labels {labels}")
    base = timings[labels.index(baseline)]

    if check:
        expected = _as_numpy(base.result)
        for t in timings:
            try:
                np.testing.assert_allclose(_as_numpy(t.result), expected, rtol=rtol, atol=atol)
            except AssertionError as err:
                raise ValueError(
                    f"version {t.label!r} gives a different result from baseline "
                    f"{baseline!r} (rtol={rtol}, atol={atol}):{err}"
                ) from None

    table = pd.DataFrame(
        {
            "median_s": [t.median for t in timings],
            "min_s": [t.minimum for t in timings],
            "first_call_s": [np.nan if t.compile_time is None else t.compile_time for t in timings],
            "speedup": [base.median / t.median for t in timings],
        },
        index=pd.Index(labels, name="version"),
    )
    return table


def format_table(table):
    """Return a copy of a :func:`speedup_table` with readable text in every cell.

    Times get units (``'12.3 ms'``), speedups one decimal and an ``x``
    (``'4.2x'``), and a missing first call a dash.  Use it for display; keep
    the numeric table for computing and glueing.
    """
    expected = ["median_s", "min_s", "first_call_s", "speedup"]
    if list(table.columns) != expected:
        raise ValueError(f"format_table takes the output of speedup_table (columns {expected}), got {list(table.columns)}")
    out = table.copy().astype(object)
    for column, name in [("median_s", "median"), ("min_s", "fastest"), ("first_call_s", "first call")]:
        out[column] = [("-" if np.isnan(v) else format_time(v)) for v in table[column]]
    out["speedup"] = [f"{v:.1f}x" for v in table["speedup"]]
    return out.rename(columns={"median_s": "median", "min_s": "fastest", "first_call_s": "first call"})


def peak_memory(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
    """Run ``func(*args, **kwargs)`` once and return ``(result, peak_bytes)``.

    ``peak_bytes`` is the largest amount of memory that was allocated *during*
    the call and traced by :mod:`tracemalloc`: Python objects and NumPy array
    buffers (NumPy reports its allocations to tracemalloc).  Memory held by
    other libraries' own allocators (JAX/XLA buffers, Numba's internals) is
    not seen; lectures that need it say how they measure it instead.
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__} {func!r}")
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = func(*args, **kwargs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, max(peak - before, 0)


_TIME_UNITS = [(1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")]


def format_time(seconds: float, digits: int = 3) -> str:
    """Format a duration with a readable unit, e.g. ``format_time(0.0123) == '12.3 ms'``."""
    seconds = float(seconds)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"a duration must be finite and non-negative, got {seconds}")
    if seconds == 0:
        return "0 s"
    for scale, unit in _TIME_UNITS:
        if seconds >= scale:
            break
    return f"{seconds / scale:.{digits}g} {unit}"


def format_bytes(n: float, digits: int = 3) -> str:
    """Format a size in bytes with binary prefixes, e.g. ``'7.63 MiB'``."""
    n = float(n)
    if not math.isfinite(n) or n < 0:
        raise ValueError(f"a size must be finite and non-negative, got {n}")
    for unit in ["B", "KiB", "MiB", "GiB"]:
        if n < 1024:
            break
        n /= 1024
    else:
        unit = "TiB"
    return f"{n:.{digits}g} {unit}"


# ---------------------------------------------------------------------------
# Plotting
# ---------------------------------------------------------------------------

#: Okabe and Ito's palette, distinguishable with the common colour-vision deficiencies.
COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def use_style() -> None:
    """Apply the site's matplotlib style (called on import of this module)."""
    mpl.rcParams.update(
        {
            "axes.prop_cycle": mpl.cycler(color=COLORS),
            "figure.figsize": (7.0, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.frameon": False,
        }
    )


use_style()


def bar_timings(
    timings: Sequence[Timing],
    *,
    title: str,
    log: bool = False,
    ax=None,
):
    """Chart the median time of each version, labelled with its value.

    On a linear axis each version is a bar.  With ``log=True`` each is a dot
    instead, because the length of a bar on a log axis depends on where the
    axis happens to start and so misleads.  The fastest run is marked with a
    tick, so the reader sees the spread.  Returns the matplotlib ``Figure``.
    """
    timings = list(timings)
    if not timings:
        raise ValueError("bar_timings needs at least one Timing")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.0, 0.6 * len(timings) + 1.2))
    else:
        fig = ax.figure
    labels = [t.label for t in timings]
    med = np.array([t.median for t in timings])
    scale, unit = next(((s, u) for s, u in _TIME_UNITS if med.min() >= s), _TIME_UNITS[-1])
    y = np.arange(len(timings))[::-1]
    colors = [COLORS[i % len(COLORS)] for i in range(len(timings))]
    if log:
        ax.hlines(y, med.min() / scale / 2, med / scale, color="0.8", linewidth=1, zorder=1)
        ax.scatter(med / scale, y, s=80, color=colors, zorder=3)
        ax.set_xscale("log")
        ax.set_xlim(med.min() / scale / 2, med.max() / scale * 4)
    else:
        ax.barh(y, med / scale, color=colors)
        ax.set_xlim(0, med.max() / scale * 1.25)
    ax.plot([t.minimum / scale for t in timings], y, "k|", markersize=14, label="fastest run", zorder=4)
    for yi, m in zip(y, med):
        ax.annotate(format_time(m), (m / scale, yi), xytext=(8, 4), textcoords="offset points", fontsize=9)
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.6, len(timings) - 0.4)
    ax.set_xlabel(f"median time per call ({unit})" + (", log scale" if log else ""))
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.grid(axis="y", visible=False)
    fig.tight_layout()
    return fig


def scaling_plot(
    x: Sequence[float],
    times: Sequence[float] | dict[str, Sequence[float]],
    *,
    xlabel: str,
    title: str,
    kind: str = "speedup",
    ideal: bool = True,
    ax=None,
):
    """Plot how time (or speedup) changes with threads or problem size.

    Parameters
    ----------
    x : sequence of numbers
        Thread counts or problem sizes; ``times[i]`` was measured at ``x[i]``.
    times : sequence of float, or dict label -> sequence of float
        Seconds, one per ``x``.  Several series may be passed as a dict.
    kind : {"speedup", "time"}
        ``"speedup"`` plots ``times[0] / times`` (speedup over the first
        point) with the ideal line ``x / x[0]``; ``"time"`` plots seconds on
        log axes with the ideal line ``times[0] * x[0] / x``.
    ideal : bool, default True
        Draw the ideal (perfect scaling) line.
    """
    if kind not in ("speedup", "time"):
        raise ValueError(f"kind must be 'speedup' or 'time', got {kind!r}")
    x = np.asarray(x, dtype=float)
    series = times if isinstance(times, dict) else {"measured": times}
    if x.ndim != 1 or len(x) < 2:
        raise ValueError("scaling_plot needs at least two x values")
    if np.any(x <= 0):
        raise ValueError("x values (threads or sizes) must be positive")
    for name, ys in series.items():
        if len(ys) != len(x):
            raise ValueError(f"series {name!r} has {len(ys)} values for {len(x)} x values")
        if np.any(np.asarray(ys, dtype=float) <= 0):
            raise ValueError(f"series {name!r} has a non-positive time")

    if ax is None:
        fig, ax = plt.subplots()
    else:
        fig = ax.figure
    for i, (name, ys) in enumerate(series.items()):
        ys = np.asarray(ys, dtype=float)
        yplot = ys[0] / ys if kind == "speedup" else ys
        ax.plot(x, yplot, "o-", color=COLORS[i % len(COLORS)], label=name)
    if ideal:
        first = np.asarray(next(iter(series.values())), dtype=float)[0]
        ideal_y = x / x[0] if kind == "speedup" else first * x[0] / x
        ax.plot(x, ideal_y, "--", color="0.4", label="ideal")
    if kind == "time":
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_ylabel("time (s), log scale")
    else:
        ax.set_ylabel(f"speedup over x = {x[0]:g}")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# Machine summary
# ---------------------------------------------------------------------------

_LIBRARIES = ["numpy", "numba", "jax", "jaxlib", "quantecon", "matplotlib", "torch", "cupy"]


def _cpu_model() -> str:
    try:
        import cpuinfo  # py-cpuinfo

        model = cpuinfo.get_cpu_info().get("brand_raw")
        if model:
            return model
    except Exception:  # pragma: no cover - py-cpuinfo missing or unsupported
        pass
    return platform.processor() or platform.machine() or "unknown"


def _accelerators() -> list[str]:
    """Names of GPUs that a library installed here can see, without importing GPU-only stacks."""
    found = []
    torch_spec = importlib.util.find_spec("torch")
    if torch_spec is not None:
        import torch

        if torch.cuda.is_available():
            found += [f"{torch.cuda.get_device_name(i)} (PyTorch)" for i in range(torch.cuda.device_count())]
    if importlib.util.find_spec("jax") is not None:
        import jax

        found += [f"{d.device_kind} (JAX {d.platform})" for d in jax.devices() if d.platform != "cpu"]
    return found


def machine_summary() -> dict[str, str]:
    """Describe the machine running this code, for the status page.

    Returns an ordered ``dict`` of strings: CPU model, physical and logical
    cores, the cores this process may use, memory, accelerators and the
    versions of the numerical libraries that are installed.
    """
    import psutil

    info = {
        "CPU": _cpu_model(),
        "physical cores": str(psutil.cpu_count(logical=False)),
        "logical cores": str(psutil.cpu_count(logical=True)),
        "cores available to this process": str(len(os.sched_getaffinity(0)))
        if hasattr(os, "sched_getaffinity")
        else str(os.cpu_count()),
        "memory": format_bytes(psutil.virtual_memory().total),
        "operating system": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }
    accel = _accelerators()
    info["accelerators"] = ", ".join(accel) if accel else "none (CPU only)"
    for lib in _LIBRARIES:
        try:
            info[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            pass
    return info
