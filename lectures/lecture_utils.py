"""Shared helpers for the lectures: measuring, comparing, tables, plots, machine summary.

Every lecture measures code through this module so that all pages follow the
same rules (see ``CONTRIBUTING.md``):

* versions are compared with :func:`compare`: interleaved rounds, results
  checked first, a confidence interval for every ratio and a verdict
  ("faster", "slower" or "no measurable difference") that knows its noise;
* the first call compiles (Numba, JAX) and fills caches; it is reported
  separately as ``compile_time``, never mixed into run times;
* each call waits for asynchronous work (JAX, PyTorch on a GPU) before the
  clock (:data:`clock`, :func:`time.perf_counter`) stops.

Example
-------
>>> import numpy as np
>>> t = timeit(np.sort, np.arange(1000), repeat=5, label="sort")
>>> t.median > 0
True
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import importlib.metadata
import importlib.util
import math
import os
import platform
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    import matplotlib as mpl
    import matplotlib.pyplot as plt
except ImportError:  # a machine that only records results (scripts/record.py) may have no matplotlib
    mpl = plt = None

__all__ = [
    "SITE_BUILD_ENV",
    "in_site_build",
    "glue",
    "clock",
    "cores",
    "cpu_seconds",
    "CpuUse",
    "cpu_use",
    "busy_after",
    "busy_neighbour",
    "one_core",
    "on_cores",
    "waiter_for",
    "Timing",
    "timeit",
    "NOISE_THRESHOLD",
    "CONFIDENCE",
    "OVERHEAD_LIMIT",
    "Verdict",
    "Comparison",
    "compare",
    "from_rounds",
    "speedup_table",
    "format_table",
    "peak_memory",
    "format_time",
    "format_bytes",
    "numpy_blas",
    "use_style",
    "COLORS",
    "bar_timings",
    "samples_plot",
    "scaling_plot",
    "machine_summary",
    "machine_fingerprint",
    "library_versions",
    "cpu_model",
    "RECORD_FORMAT",
    "PROVENANCE_FIELDS",
    "validate_recorded_results",
    "load_recorded_results",
    "records_folder",
    "load_records",
    "record_label",
    "record_scaling",
    "plot_recorded_scaling",
    "recorded_scaling_sentence",
]

# ---------------------------------------------------------------------------
# Putting values on the page
# ---------------------------------------------------------------------------

#: Set to "1" by the Makefile while it builds the site.
SITE_BUILD_ENV = "LECTURES_SITE_BUILD"


def in_site_build() -> bool:
    """True while the lecture is executed by the site's build (``make book``)."""
    return os.environ.get(SITE_BUILD_ENV) == "1"


def glue(name: str, value: Any, display: bool = False, alt: str | None = None) -> None:
    """Record ``value`` under ``name`` for the page, as :func:`myst_nb.glue` does.

    In the site's build this is :func:`myst_nb.glue`: the text refers to the
    value with ``{glue:text}`` and shows figures with ``{glue:figure}``.
    Run anywhere else (Jupyter, Colab, a downloaded notebook) there is no
    page to put the value on, so figures are shown where they are made and
    other values are shown only when ``display=True``.

    A matplotlib ``Figure`` needs ``alt``, the text a screen reader reads in
    its place: what the figure shows and its take-away, in a sentence or two.
    Build a take-away that was measured from the same result the page uses
    (a verdict's sentence, a formatted value), never type it in.  The text
    travels with the figure in the output's metadata
    (``metadata["image/png"]["alt"]``, where IPython's ``Image`` and
    nbconvert's HTML export keep it), and the site's ``{glue:figure}`` puts
    it on the ``<img>`` (``_ext/figure_alt.py``).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"glue needs a non-empty string name, got {name!r}")
    if mpl is not None and isinstance(value, mpl.figure.Figure):
        if not isinstance(alt, str) or not alt.strip():
            raise ValueError(
                f"glue {name!r}: a figure needs alt text, what it shows and its take-away, e.g. "
                f'lu.glue({name!r}, fig, alt="Line plot of time against threads: ..."); got alt={alt!r}'
            )
        value = _FigureWithAlt(value, " ".join(alt.split()))
    elif alt is not None:
        raise ValueError(f"glue {name!r}: alt text is for a matplotlib Figure, not for a {type(value).__name__}")
    if in_site_build():
        from myst_nb import glue as myst_glue

        myst_glue(name, value, display=display)
    elif display or isinstance(value, _FigureWithAlt):
        from IPython.display import display as show

        show(value)


@dataclasses.dataclass(frozen=True)
class _FigureWithAlt:
    """A figure and its alt text: displayed as the kernel displays the figure, with the text in the output's metadata."""

    figure: mpl.figure.Figure
    alt: str

    def _repr_mimebundle_(self, include=None, exclude=None):
        from IPython.core.formatters import format_display_data

        data, metadata = format_display_data(self.figure, include=include, exclude=exclude)
        for mime in data:
            if mime.startswith("image/"):
                metadata.setdefault(mime, {})["alt"] = self.alt
        return data, metadata


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------

#: The clock of every measurement on the site: monotonic, with sub-microsecond resolution.
clock = time.perf_counter


def cores() -> int:
    """Number of CPU cores this process may run on (its affinity mask, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_seconds() -> float:
    """CPU seconds used so far by this process's threads and by its child processes that ended.

    Read with :func:`resource.getrusage`, which counts in microseconds
    (:func:`os.times` counts in ticks of 10 ms, too coarse for a sample of a
    few milliseconds).  A child process's time is counted once it has ended
    and been waited for (as a process pool's workers are when the pool shuts
    down); a pool kept alive across calls is not seen until then.  Where
    ``resource`` does not exist (Windows), only this process is counted.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return time.process_time()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclasses.dataclass
class CpuUse:
    """Wall-clock and CPU seconds of a stretch of code; see :func:`cpu_use`."""

    wall: float = math.nan
    cpu: float = math.nan

    @property
    def busy_cores(self) -> float:
        """Average number of cores kept busy: CPU seconds per wall-clock second."""
        return self.cpu / self.wall


def _live_children_cpu_seconds() -> float:
    """CPU seconds used so far by this process's child processes that are still running."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:  # ended meanwhile: getrusage counts it once waited for
            continue
        total += times.user + times.system
    return total


def _cpu_clock(children: bool) -> Callable[[], float]:
    """The CPU-seconds counter: this process and its ended children, plus live children if asked."""
    if not isinstance(children, bool):
        raise TypeError(f"children must be True or False, got {children!r}")
    if not children:
        return cpu_seconds
    return lambda: cpu_seconds() + _live_children_cpu_seconds()


@contextlib.contextmanager
def cpu_use(children: bool = False):
    """Measure how many cores a block of code keeps busy.

    >>> with cpu_use() as use:
    ...     _ = sum(range(100_000))
    >>> use.busy_cores > 0
    True

    Counts this process's threads and its child processes that ended inside
    the block (see :func:`cpu_seconds`).  With ``children=True`` it also
    counts the child processes still running, such as a process pool's
    workers, through psutil.
    """
    used = _cpu_clock(children)
    use = CpuUse()
    cpu0, wall0 = used(), clock()
    try:
        yield use
    finally:
        use.wall, use.cpu = clock() - wall0, used() - cpu0


def busy_after(func: Callable[[], Any], after: float, seconds: float = 0.05) -> float:
    """Cores this process keeps busy while idle, ``after`` seconds after ``func()`` returned.

    >>> busy_after(lambda: sum(range(1000)), after=0.0) < 0.5
    True

    Calls ``func()``, sleeps ``after`` seconds, then counts the busy cores
    (:func:`cpu_use`) during a further sleep of ``seconds``: the main thread
    does nothing then, so any CPU time is a thread pool's workers still
    spinning (OpenBLAS, OpenMP) or other threads of the process.
    """
    if isinstance(after, bool) or not isinstance(after, (int, float)) or not 0 <= after < math.inf:
        raise ValueError(f"after must be a number of seconds, 0 or more, got {after!r}")
    _check_seconds("seconds", seconds)
    func()
    time.sleep(after)
    with cpu_use() as use:
        time.sleep(seconds)
    return use.busy_cores


@contextlib.contextmanager
def busy_neighbour():
    """Another process keeps a CPU busy while the block runs: the load of a shared machine.

    The neighbour spins in a loop.  Where the operating system allows it
    (Linux), it and the calling thread are pinned to the same core, so that
    they take turns on it; the calling thread's cores are restored afterwards.
    Work that other threads do (a BLAS pool) is not pinned.  The neighbour is
    stopped when the block ends, even on an error.
    """
    import subprocess

    neighbour = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    cores_before = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
    try:
        if cores_before is not None:
            core = {min(cores_before)}
            os.sched_setaffinity(neighbour.pid, core)
            os.sched_setaffinity(0, core)
        time.sleep(0.2)  # let it start spinning
        yield neighbour
    finally:
        neighbour.kill()
        neighbour.wait()
        if cores_before is not None:
            os.sched_setaffinity(0, cores_before)


def one_core():
    """Run a block with every thread of this process on one core: a per-core comparison.

    >>> with one_core():
    ...     _ = sum(range(100_000))

    Thread pools (OpenBLAS, XLA's CPU runtime, Numba's) size themselves when
    they start and ignore later changes to thread-count settings, but every
    thread obeys its CPU affinity.  This is :func:`on_cores` with one core.
    """
    return on_cores(1)


@contextlib.contextmanager
def on_cores(count: int):
    """Run a block with every thread of this process on its ``count`` lowest cores.

    >>> with on_cores(1):
    ...     _ = sum(range(100_000))

    This pins all the process's threads (``/proc/self/task``) to the lowest
    ``count`` cores it may use, and those created in the block inherit them;
    afterwards each thread gets its own cores back.  A thread pool keeps its
    size, its threads now taking turns on those cores: the way to run JAX's
    CPU runtime, sized once at start, on fewer cores within one process.
    Linux only: elsewhere it raises :class:`NotImplementedError`.
    """
    _check_count("count", count, 1)
    tasks = Path("/proc/self/task")
    if not hasattr(os, "sched_setaffinity") or not tasks.is_dir():
        raise NotImplementedError(
            "lu.on_cores() and lu.one_core() pin threads with os.sched_setaffinity and /proc/self/task, which "
            f"only Linux has; on {platform.system()} run the comparison without them"
        )
    allowed = sorted(os.sched_getaffinity(0))
    if count > len(allowed):
        raise ValueError(f"on_cores({count}): this process may run on only {len(allowed)} cores")

    def threads() -> list[int]:
        return [int(name) for name in os.listdir(tasks)]

    before: dict[int, set[int]] = {}
    for tid in threads():
        with contextlib.suppress(ProcessLookupError):  # a thread may end meanwhile
            before[tid] = os.sched_getaffinity(tid)
    cores = set(allowed[:count])
    try:
        for tid in before:
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(tid, cores)
        yield
    finally:
        everything = set().union(*before.values())
        for tid in threads():
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(tid, before.get(tid, everything))


def _leaves(value: Any):
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value


def waiter_for(value: Any) -> Callable[[Any], Any] | None:
    """The function that waits for results like ``value``, or ``None`` if they are ready.

    JAX dispatches work asynchronously and returns before the result exists;
    PyTorch does the same on a GPU.  A clock stopped before waiting measures
    only the dispatch.  The timing functions call this once, on a version's
    first result, so that a result that needs no waiting costs nothing extra
    on every call.  Tuples, lists and dicts are searched for arrays.
    """
    leaves = list(_leaves(value))
    if any(hasattr(leaf, "block_until_ready") for leaf in leaves):
        if "jax" in sys.modules:
            return sys.modules["jax"].block_until_ready

        def wait_for_each(result: Any) -> Any:
            for leaf in _leaves(result):
                if hasattr(leaf, "block_until_ready"):
                    leaf.block_until_ready()
            return result

        return wait_for_each
    torch = sys.modules.get("torch")
    if torch is not None:
        devices = {leaf.device for leaf in leaves if isinstance(leaf, torch.Tensor) and leaf.is_cuda}
        if devices:

            def wait_for_cuda(result: Any) -> Any:
                for device in devices:
                    torch.cuda.synchronize(device)
                return result

            return wait_for_cuda
    return None


def _sample(
    func: Callable[[], Any],
    number: int,
    wait: Callable[[Any], Any] | None,
    cpu_clock: Callable[[], float] = cpu_seconds,
) -> tuple[float, float]:
    """Run ``func`` ``number`` times back to back: (wall seconds, CPU seconds).

    Each result is dropped as soon as it exists (and has been waited for), as
    :mod:`timeit` does: holding it while the next call allocates its own would
    make the allocator alternate between reusing memory and mapping fresh
    pages, and the samples alternate with it.
    """
    cpu0 = cpu_clock()
    start = clock()
    if wait is None:
        for _ in range(number):
            func()
    else:
        for _ in range(number):
            wait(func())
    wall = clock() - start
    return wall, cpu_clock() - cpu0


@dataclasses.dataclass(frozen=True)
class Timing:
    """Timing of one version of a computation.

    Attributes
    ----------
    label : str
        Name shown in tables and plots.
    times : tuple of float
        Seconds per call, one entry per sample (warm-up excluded).  A sample
        is ``number`` calls in a row, divided by ``number``.
    compile_time : float or None
        Seconds taken by the first (warm-up) call, which includes any
        just-in-time compilation; ``None`` when no warm-up was run.
    result : object
        The value the version returned, kept so that versions can be checked
        against each other.
    number : int
        Calls per sample.
    busy_cores : float or None
        CPU seconds per wall-clock second over all samples (see :func:`cpu_use`).
    """

    label: str
    times: tuple[float, ...]
    compile_time: float | None = None
    result: Any = dataclasses.field(default=None, repr=False, compare=False)
    number: int = 1
    busy_cores: float | None = None

    @property
    def median(self) -> float:
        """Median seconds per call."""
        return float(np.median(self.times))

    @property
    def minimum(self) -> float:
        """Fastest sample, in seconds per call."""
        return float(min(self.times))

    @property
    def spread(self) -> float:
        """Interquartile range of the samples relative to their median (0.1 means 10 %)."""
        q1, q3 = np.percentile(self.times, [25, 75])
        return float((q3 - q1) / self.median)

    @property
    def repeat(self) -> int:
        """Number of samples."""
        return len(self.times)

    def __str__(self) -> str:
        text = (
            f"{self.label}: median {format_time(self.median)}, min {format_time(self.minimum)} over {self.repeat} runs"
        )
        if self.compile_time is not None:
            text += f" (first call {format_time(self.compile_time)})"
        return text


def _check_count(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def _check_seconds(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def _bind(func: Any, args: tuple, kwargs: dict, what: str) -> Callable[[], Any]:
    if not callable(func):
        raise TypeError(f"{what} must be callable, got {type(func).__name__} {func!r}")
    return functools.partial(func, *args, **kwargs) if args or kwargs else func


def timeit(
    func: Callable[..., Any],
    *args: Any,
    repeat: int = 7,
    number: int = 1,
    warmup: bool = True,
    label: str | None = None,
    children: bool = False,
    **kwargs: Any,
) -> Timing:
    """Time ``func(*args, **kwargs)`` on its own and return a :class:`Timing`.

    Use :func:`compare` to compare versions: it interleaves them and gives a
    verdict that knows its noise.  ``timeit`` is for a single version (a
    scaling curve, a cost quoted alone).  It uses the same clock
    (:data:`clock`) and the same wait for asynchronous results as
    :func:`compare`, and records the cores kept busy.

    Parameters
    ----------
    func : callable
        The computation to time.
    *args, **kwargs
        Passed to ``func`` on every call.
    repeat : int, default 7
        Number of samples (the median and minimum are taken over these).
    number : int, default 1
        Calls per sample; use more than one for functions that take only a few
        microseconds, so that each sample is long enough to time.  Times are
        reported per call.
    warmup : bool, default True
        Call ``func`` once before timing and record that call's duration as
        ``compile_time``.  Leave on for anything compiled just in time.
    label : str, optional
        Name for tables and plots; defaults to ``func.__name__``.
    children : bool, default False
        Also count the CPU time of child processes still running, such as
        a long-lived process pool's workers (see :func:`cpu_use`).

    Raises
    ------
    TypeError
        If ``func`` is not callable or ``repeat``/``number`` are not integers.
    ValueError
        If ``repeat`` or ``number`` is smaller than 1.
    """
    call = _bind(func, args, kwargs, "func")
    cpu_clock = _cpu_clock(children)
    _check_count("repeat", repeat, 1)
    _check_count("number", number, 1)
    if label is None:
        label = getattr(func, "__name__", type(func).__name__)

    compile_time, wait, result = None, None, None
    if warmup:
        start = clock()
        result = call()
        wait = waiter_for(result)
        if wait is not None:
            wait(result)
        compile_time = clock() - start
    times, cpu = [], 0.0
    for _ in range(repeat):
        if result is None and not times:  # no warm-up: the first call gives the result and the wait
            cpu0, start = cpu_clock(), clock()
            result = call()
            wait = waiter_for(result)
            if wait is not None:
                wait(result)
            wall, used = clock() - start, cpu_clock() - cpu0
            if number > 1:
                more_wall, more_cpu = _sample(call, number - 1, wait, cpu_clock)
                wall, used = wall + more_wall, used + more_cpu
        else:
            wall, used = _sample(call, number, wait, cpu_clock)
        times.append(wall / number)
        cpu += used
    busy = cpu / (sum(times) * number)
    return Timing(
        label=label, times=tuple(times), compile_time=compile_time, result=result, number=number, busy_cores=busy
    )


# ---------------------------------------------------------------------------
# Comparing versions: verdicts that know their noise
# ---------------------------------------------------------------------------

#: The smallest change :func:`compare` reports as a difference, as a fraction
#: (0.05 is 5 %).  How it was chosen: CONTRIBUTING.md, "Comparing versions".
NOISE_THRESHOLD = 0.05
#: Confidence level of the interval around each ratio.
CONFIDENCE = 0.95
#: The harness's own cost per call above which :func:`compare` warns, as a
#: fraction of the fastest sample of a version.
OVERHEAD_LIMIT = 0.02
#: Seed of the shuffled order in which :func:`compare` times the versions in
#: each round (fixed, so that a rerun times them in the same orders).
ROUND_ORDER_SEED = 20_261_206

_VERDICTS = ("faster", "slower", "no measurable difference")


def _ratio_text(ratio: float) -> str:
    """'2.1', '1.06', '12': as many digits as keep the number visibly different from 1."""
    if ratio < 1.095:
        return f"{ratio:.2f}"
    if ratio < 9.95:
        return f"{ratio:.1f}"
    return f"{ratio:,.0f}"


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How one version's speed compares with the baseline's, with its uncertainty.

    Attributes
    ----------
    version, baseline : str
        Labels of the two versions.
    ratio : float
        Speed ratio: the baseline's time per call divided by the version's,
        estimated as the median over rounds of the per-round ratios.  Above 1
        the version is faster.
    low, high : float
        Bounds of the :data:`CONFIDENCE` interval of ``ratio`` (see :func:`compare`).
    threshold : float
        The noise threshold in force (:data:`NOISE_THRESHOLD`).

    The verdict is "faster" only when the interval lies above 1 *and* the
    ratio exceeds ``1 + threshold``; "slower" likewise the other way;
    otherwise there is no measurable difference.
    """

    version: str
    baseline: str
    ratio: float
    low: float
    high: float
    threshold: float = NOISE_THRESHOLD

    def __post_init__(self):
        for name in ("ratio", "low", "high"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"Verdict {name} must be a positive finite number, got {value!r}")
        if not self.low <= self.ratio <= self.high:
            raise ValueError(f"Verdict needs low <= ratio <= high, got {self.low}, {self.ratio}, {self.high}")
        if not 0.01 <= self.threshold < 1:
            raise ValueError(f"threshold must be between 0.01 and 1, got {self.threshold}")

    @property
    def verdict(self) -> str:
        """'faster', 'slower' or 'no measurable difference'."""
        if self.low > 1 and self.ratio > 1 + self.threshold:
            return "faster"
        if self.high < 1 and 1 / self.ratio > 1 + self.threshold:
            return "slower"
        return "no measurable difference"

    @property
    def within(self) -> int:
        """Whole percent that bounds the change when there is no measurable one."""
        bound = max(1 - self.low, self.high - 1, self.threshold)
        return math.ceil(round(100 * bound, 6))

    @property
    def phrase(self) -> str:
        """The verdict as words that follow the version's name.

        'ran 2.1 times as fast as NumPy', 'took 1.3 times as long as NumPy', or
        'showed no measurable difference from NumPy (within 4 %)'.
        """
        if self.verdict == "faster":
            return f"ran {_ratio_text(self.ratio)} times as fast as {self.baseline}"
        if self.verdict == "slower":
            return f"took {_ratio_text(1 / self.ratio)} times as long as {self.baseline}"
        return f"showed no measurable difference from {self.baseline} (within {self.within} %)"

    @property
    def sentence(self) -> str:
        """The verdict as a sentence: 'Numba ran 2.1 times as fast as NumPy.'"""
        return f"{self.version} {self.phrase}."

    @property
    def short(self) -> str:
        """The verdict for a table cell: '2.1 times as fast', '1.3 times as long', 'no measurable difference'."""
        if self.verdict == "faster":
            return f"{_ratio_text(self.ratio)} times as fast"
        if self.verdict == "slower":
            return f"{_ratio_text(1 / self.ratio)} times as long"
        return f"no measurable difference (within {self.within} %)"

    def numbers(self, digits: int = 2) -> str:
        """The ratio and its interval as numbers, with no verdict words: '0.97 (95 % interval 0.95 to 0.99)'.

        For a ratio near the threshold, whose verdict a rebuild could flip.
        """
        _check_count("digits", digits, 0)
        return (
            f"{self.ratio:.{digits}f} ({100 * CONFIDENCE:.0f} % interval "
            f"{self.low:.{digits}f} to {self.high:.{digits}f})"
        )

    def record(self) -> dict[str, Any]:
        """Everything the verdict was made from, as plain Python values (for glue and tests)."""
        return {
            "kind": "verdict",
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)},
            "verdict": self.verdict,
            "phrase": self.phrase,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> "Verdict":
        """The verdict a :meth:`record` describes (its stored words are not trusted)."""
        return cls(**{f.name: record[f.name] for f in dataclasses.fields(cls)})


def _median_interval(ratios: np.ndarray, confidence: float) -> tuple[float, float]:
    """Distribution-free confidence interval of the median of ``ratios``.

    Order statistics (:func:`scipy.stats.quantile_test`): the interval
    assumes only that rounds are independent, not that times are normal,
    and stays honest with few rounds (with 7 it spans all of them).
    """
    from scipy import stats

    interval = stats.quantile_test(ratios, q=1, p=0.5).confidence_interval(confidence_level=confidence)
    return float(interval.low), float(interval.high)


def _verdict(version: str, baseline: str, version_times, baseline_times, threshold: float) -> Verdict:
    """The verdict of one version against another from the rounds in which both were timed."""
    ratios = np.asarray(baseline_times) / np.asarray(version_times)
    low, high = _median_interval(ratios, CONFIDENCE)
    estimate = float(np.median(ratios))
    return Verdict(version, baseline, estimate, min(low, estimate), max(high, estimate), threshold)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`: each version's timing and its verdict against the baseline.

    Index it with a version's label for its :class:`Verdict` (``cmp["Numba"]``).
    """

    timings: tuple[Timing, ...]
    baseline: str
    verdicts: dict[str, Verdict]
    rounds: int
    overhead: float
    threshold: float = NOISE_THRESHOLD

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.timings]

    def timing(self, label: str) -> Timing:
        """The :class:`Timing` of one version."""
        if label not in self.labels:
            raise KeyError(f"no version {label!r}; the versions are {self.labels}")
        return self.timings[self.labels.index(label)]

    def against(self, version: str, baseline: str) -> Verdict:
        """The verdict of ``version`` against another version than the comparison's baseline.

        Computed from the same interleaved rounds, exactly as :func:`compare`
        computes the verdicts against its baseline: scaling against one
        thread when the baseline is the serial loop, say.
        """
        if version == baseline:
            raise ValueError(f"a version has no verdict against itself: {version!r}")
        if baseline == self.baseline and version in self.verdicts:
            return self.verdicts[version]
        return _verdict(version, baseline, self.timing(version).times, self.timing(baseline).times, self.threshold)

    def __getitem__(self, label: str) -> Verdict:
        if label == self.baseline:
            raise KeyError(f"{label!r} is the baseline: it has no verdict against itself")
        if label not in self.verdicts:
            raise KeyError(f"no version {label!r}; the versions are {self.labels}")
        return self.verdicts[label]

    def table(self):
        """A pandas DataFrame, one row per version: times, spread, samples, busy cores, ratio and verdict.

        Numbers stay numbers (seconds, fractions); :func:`format_table` makes it readable.
        """
        import pandas as pd

        rows = []
        for t in self.timings:
            v = self.verdicts.get(t.label)
            rows.append(
                {
                    "median_s": t.median,
                    "min_s": t.minimum,
                    "spread": t.spread,
                    "runs": t.repeat,
                    "first_call_s": np.nan if t.compile_time is None else t.compile_time,
                    "busy_cores": t.busy_cores,
                    "ratio": 1.0 if v is None else v.ratio,
                    "low": 1.0 if v is None else v.low,
                    "high": 1.0 if v is None else v.high,
                    "verdict": "baseline" if v is None else v.short,
                }
            )
        return pd.DataFrame(rows, index=pd.Index(self.labels, name="version"))

    def glue(self, name: str, version: str, baseline: str | None = None) -> None:
        """Put one version's verdict on the page.

        Glues ``name`` (the :attr:`Verdict.phrase`, for ``{glue:text}``),
        ``name-ratio`` (the speed ratio, a float) and ``name-verdict`` (the
        :meth:`Verdict.record` the words were made from, which the tests
        check the words against).  With ``baseline``, the verdict is against
        that version instead of the comparison's baseline (:meth:`against`).
        """
        verdict = self[version] if baseline is None else self.against(version, baseline)
        glue(name, verdict.phrase)
        glue(f"{name}-ratio", float(verdict.ratio))
        glue(f"{name}-verdict", verdict.record())

    def __str__(self) -> str:
        lines = [str(t) for t in self.timings]
        lines += [v.sentence for v in self.verdicts.values()]
        return "\n".join(lines)


def _harness_overhead(number: int) -> float:
    """Seconds per call that the sampling loop itself costs (a no-op timed the same way)."""
    noop = lambda: None  # noqa: E731
    number = min(number, 100_000)  # enough calls to time; more would only cost time
    return min(_sample(noop, number, None)[0] for _ in range(5)) / number


def compare(
    versions: dict[str, Callable[..., Any]],
    *args: Any,
    baseline: str | None = None,
    max_time: float = 2.0,
    min_rounds: int = 7,
    max_rounds: int = 200,
    sample_time: float = 0.01,
    pause: float = 0.0,
    threshold: float = NOISE_THRESHOLD,
    check: bool = True,
    rtol: float = 1e-7,
    atol: float = 0.0,
    children: bool = False,
    **kwargs: Any,
) -> Comparison:
    """Compare versions of one computation and give verdicts that know their noise.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).random(10_000)
    >>> cmp = compare({"sort": np.sort, "sort, then copy": lambda v: np.sort(v).copy()}, x, max_time=0.2)
    >>> cmp["sort, then copy"].verdict in ("slower", "no measurable difference")
    True

    What it does, in order:

    1. **First call.** Each version is called once; that call compiles
       (Numba, JAX) and is reported as ``compile_time``, never mixed into the
       samples.  Its result decides whether later calls must wait for
       asynchronous work (:func:`waiter_for`).
    2. **Check.** Every version's result must agree with the baseline's
       (:func:`numpy.testing.assert_allclose` with ``rtol``/``atol``);
       otherwise it raises, naming the version.
    3. **Calibrate.** Each version gets an inner loop of ``number`` calls so
       that one sample lasts at least ``sample_time`` seconds (as
       :meth:`timeit.Timer.autorange` does).
    4. **Rounds.** Every round times every version once, in a shuffled order
       (the same sequence of orders on every run), so that drift, a
       neighbour's load and the threads a version leaves spinning hit all
       versions alike: in a merely rotated order each version would always
       follow the same neighbour.  Rounds stop once ``max_time`` seconds have passed and
       at least ``min_rounds`` are done, or at ``max_rounds``.  The garbage
       collector is paused meanwhile, as :mod:`timeit` does.
    5. **Verdict.** For each version the per-round ratio baseline time /
       version time is computed; the estimate is their median, with a
       :data:`CONFIDENCE` distribution-free interval for that median (order
       statistics over rounds, :func:`scipy.stats.quantile_test`).  See
       :class:`Verdict` for how the interval and ``threshold`` decide.

    Time limit: one call takes about ``max_time`` plus one first call and
    about ``2 * sample_time`` per version, or ``min_rounds`` rounds when
    those take longer (a version of one second costs at least seven
    seconds); a ``pause`` counts towards ``max_time``.  The clock is :data:`clock`; the harness's own cost per call is
    measured and reported as ``overhead``, with a warning when it exceeds
    :data:`OVERHEAD_LIMIT` of a version's fastest sample.

    Parameters
    ----------
    versions : dict of label -> callable
        Two or more versions; each is called as ``func(*args, **kwargs)``.
        Lambdas and closures are fine.
    baseline : str, optional
        Label of the version the others are compared with (the best serial
        version, by the site's convention).  Defaults to the first.
    pause : float, default 0
        Seconds to sleep, untimed, before each sample.  Use it when a version
        leaves work running after it returns that would land on the next
        sample: OpenBLAS's threads keep spinning for a while after each call
        (measured in the lecture on implicit threads), and would otherwise
        take a core from whichever version runs next and add their CPU time
        to its busy cores.
    check : bool, default True
        Set to False only when versions legitimately return different
        objects; the lecture must then check them some other way.
    children : bool, default False
        Also count, in each version's busy cores, the CPU time of child
        processes still running: the workers of a process pool or a local
        cluster kept alive across calls (see :func:`cpu_use`).

    Returns
    -------
    Comparison
        Timings, one :class:`Verdict` per non-baseline version (``cmp[label]``),
        the number of rounds and the harness overhead.
    """
    if not isinstance(versions, dict):
        raise TypeError(f"compare takes a dict of label -> callable, got {type(versions).__name__}")
    if len(versions) < 2:
        raise ValueError(f"compare needs at least two versions to compare, got {len(versions)}: {list(versions)}")
    labels = list(versions)
    for label in labels:
        if not isinstance(label, str) or not label:
            raise TypeError(f"version labels must be non-empty strings, got {label!r}")
    calls = [_bind(versions[label], args, kwargs, f"version {label!r}") for label in labels]
    cpu_clock = _cpu_clock(children)
    if baseline is None:
        baseline = labels[0]
    if baseline not in labels:
        raise ValueError(f"baseline {baseline!r} is not one of the versions {labels}")
    # Six rounds are the fewest for which the median's 95 % interval exists (1 - 2 / 2**6 > 0.95).
    _check_count("min_rounds", min_rounds, 6)
    _check_count("max_rounds", max_rounds, min_rounds)
    _check_seconds("max_time", max_time)
    _check_seconds("sample_time", sample_time)
    if isinstance(pause, bool) or not isinstance(pause, (int, float)) or not 0 <= pause < 60:
        raise ValueError(f"pause must be a number of seconds from 0 to 60, got {pause!r}")
    if not 0.01 <= threshold < 1:
        raise ValueError(f"threshold must be between 0.01 and 1, got {threshold}")

    # 1. First calls, and what each version's results need to be waited for.
    compile_times, waits, results = [], [], []
    for call in calls:
        start = clock()
        out = call()
        wait = waiter_for(out)
        if wait is not None:
            wait(out)
        compile_times.append(clock() - start)
        waits.append(wait)
        results.append(out)

    # 2. Results agree before anything is timed.
    if check:
        _check_results(labels, results, baseline, rtol, atol)

    # 3. Calibrate the inner loop of each version.
    numbers = []
    for call, wait in zip(calls, waits):
        number = 1
        for _ in range(3):
            if pause:
                time.sleep(pause)
            wall = _sample(call, number, wait)[0]
            if wall >= sample_time:
                break
            number = min(10**7, max(number + 1, math.ceil(number * 1.2 * sample_time / max(wall, 1e-9))))
        numbers.append(number)

    # 4. Interleaved rounds in shuffled order, from a fixed seed so that a rerun repeats it.
    k = len(calls)
    orders = np.random.default_rng(ROUND_ORDER_SEED)
    times = [[] for _ in calls]
    cpu = [0.0] * k
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = clock()
        rounds = 0
        while rounds < max_rounds:
            for i in orders.permutation(k):
                if pause:
                    time.sleep(pause)
                wall, used = _sample(calls[i], numbers[i], waits[i], cpu_clock)
                times[i].append(wall / numbers[i])
                cpu[i] += used
            rounds += 1
            if rounds >= min_rounds and clock() - start >= max_time:
                break
    finally:
        if was_enabled:
            gc.enable()

    timings = tuple(
        Timing(
            label=label,
            times=tuple(ts),
            compile_time=ct,
            result=res,
            number=n,
            busy_cores=c / (sum(ts) * n),
        )
        for label, ts, ct, res, n, c in zip(labels, times, compile_times, results, numbers, cpu)
    )

    # The harness's own cost, against every version's fastest sample.
    overhead = _harness_overhead(max(numbers))
    for t in timings:
        if overhead > OVERHEAD_LIMIT * t.minimum:
            warnings.warn(
                f"compare: the timing loop's own cost ({format_time(overhead)} per call) is "
                f"{100 * overhead / t.minimum:.0f} % of version {t.label!r}'s time per call "
                f"({format_time(t.minimum)}): give each call more work to do",
                stacklevel=2,
            )

    # 5. Ratios and their intervals.
    base = times[labels.index(baseline)]
    verdicts = {
        label: _verdict(label, baseline, ts, base, threshold) for label, ts in zip(labels, times) if label != baseline
    }
    return Comparison(timings, baseline, verdicts, rounds, overhead, threshold)


def from_rounds(
    times: dict[str, Sequence[float]],
    baseline: str | None = None,
    threshold: float = NOISE_THRESHOLD,
    min_rounds: int = 7,
) -> Comparison:
    """Verdicts from rounds timed elsewhere: in another process, an MPI program, a recorded file.

    ``times`` maps each version's label to its seconds per call, one entry
    per round; entry ``i`` of every version must come from the same round
    ``i``, the versions timed one after another within it, as
    :func:`compare` times them.  The verdicts are made exactly as
    :func:`compare` makes them (the baseline defaults to the first label).

    >>> cmp = from_rounds({"a": [2.0] * 7, "b": [1.0, 1.1, 0.9, 1.0, 1.0, 1.05, 0.95]})
    >>> cmp["b"].verdict
    'faster'
    """
    labels = list(times)
    if len(labels) < 2:
        raise ValueError(f"from_rounds needs at least two versions, got {labels}")
    baseline = labels[0] if baseline is None else baseline
    if baseline not in labels:
        raise ValueError(f"baseline {baseline!r} is not one of the versions {labels}")
    _check_count("min_rounds", min_rounds, 1)
    series = {}
    for label, values in times.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or not np.all(np.isfinite(values)) or not np.all(values > 0):
            raise ValueError(f"times of {label!r} must be a sequence of positive finite seconds, got {values!r}")
        series[label] = values
    lengths = {len(v) for v in series.values()}
    if len(lengths) != 1:
        raise ValueError(f"every version needs one time per round; got { ({k: len(v) for k, v in series.items()}) }")
    rounds = lengths.pop()
    if rounds < min_rounds:
        raise ValueError(f"from_rounds needs at least {min_rounds} rounds for an interval, got {rounds}")
    timings = tuple(Timing(label=label, times=tuple(map(float, v))) for label, v in series.items())
    verdicts = {
        label: _verdict(label, baseline, v, series[baseline], threshold)
        for label, v in series.items()
        if label != baseline
    }
    return Comparison(timings, baseline, verdicts, rounds, 0.0, threshold)


def _as_numpy(value: Any) -> Any:
    """Bring arrays from any library to NumPy for comparison."""
    if isinstance(value, (tuple, list)):
        return type(value)(_as_numpy(v) for v in value)
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # PyTorch tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _check_results(labels: list[str], results: list[Any], baseline: str, rtol: float, atol: float) -> None:
    """Raise ValueError naming the first version whose result differs from the baseline's."""
    reference = results[labels.index(baseline)]
    if reference is None:
        differing = [label for label, result in zip(labels, results) if result is not None]
        if differing:
            raise ValueError(f"version {differing[0]!r} returns a value where baseline {baseline!r} returns None")
        return
    expected = _as_numpy(reference)
    for label, result in zip(labels, results):
        try:
            np.testing.assert_allclose(_as_numpy(result), expected, rtol=rtol, atol=atol)
        except AssertionError as err:
            raise ValueError(
                f"version {label!r} gives a different result from baseline "
                f"{baseline!r} (rtol={rtol}, atol={atol}):{err}"
            ) from None


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
        _check_results(labels, [t.result for t in timings], baseline, rtol, atol)

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
    """Return a readable copy of a :class:`Comparison`'s table or of a :func:`speedup_table`.

    Times get units (``'12.3 ms'``), spreads a percent, a missing first call a
    dash; a comparison's ratio gets its interval (``'2.1 [1.9, 2.3]'``) beside
    its verdict, a speedup table's speedup one decimal and an ``x``.  Use it
    for display; keep the numbers for computing and glueing.
    """
    if isinstance(table, Comparison):
        numbers = table.table()
        out = numbers.copy().astype(object)
        for column in ["median_s", "min_s", "first_call_s"]:
            out[column] = [("-" if np.isnan(v) else format_time(v)) for v in numbers[column]]
        out["spread"] = [f"{100 * v:.1f} %" if v < 0.1 else f"{100 * v:.0f} %" for v in numbers["spread"]]
        out["busy_cores"] = [f"{v:.2f}" for v in numbers["busy_cores"]]
        out["ratio"] = [
            "1" if label == table.baseline else f"{r:.3g} [{lo:.3g}, {hi:.3g}]"
            for label, r, lo, hi in zip(numbers.index, numbers["ratio"], numbers["low"], numbers["high"])
        ]
        out = out.drop(columns=["low", "high"])
        return out.rename(
            columns={
                "median_s": "median",
                "min_s": "fastest",
                "first_call_s": "first call",
                "busy_cores": "busy cores",
                "ratio": "speed ratio [95 % interval]",
            }
        )
    expected = ["median_s", "min_s", "first_call_s", "speedup"]
    if not hasattr(table, "columns") or list(table.columns) != expected:
        columns = list(table.columns) if hasattr(table, "columns") else type(table).__name__
        raise ValueError(
            f"format_table takes a Comparison or the output of speedup_table (columns {expected}), got {columns}"
        )
    out = table.copy().astype(object)
    for column in ["median_s", "min_s", "first_call_s"]:
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


def page_faults(func: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
    """Minor page faults of this process during one call of ``func(*args, **kwargs)``.

    A page fault is the operating system handing the process a fresh page of
    memory on its first touch (4 KiB, or 2 MiB where huge pages are used, as
    NumPy asks for large arrays on Linux): a large array that is allocated
    anew costs one per page, an array that is reused costs none.  ``func`` is called once first, so that one-off
    set-up (compilation, a first allocation) is not counted.

    Raises
    ------
    RuntimeError
        Where the operating system does not report page faults (Windows).
    """
    try:
        import resource
    except ImportError:
        raise RuntimeError("page_faults needs the resource module (Linux, macOS); this system has none") from None
    call = _bind(func, args, kwargs, "func")
    call()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    call()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


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


def numpy_blas(info: list[dict] | None = None) -> dict[str, Any]:
    """The threadpoolctl entry of the BLAS library that NumPy's ``@`` calls.

    Several BLAS copies may be loaded at once (NumPy's, SciPy's, a
    framework's); each has its own thread pool.  NumPy's is the one loaded
    from NumPy's own folders (its bundled OpenBLAS in a wheel), or else the
    one whose name and version NumPy's build configuration gives.  ``info``
    defaults to :func:`threadpoolctl.threadpool_info`.

    Raises
    ------
    LookupError
        If no BLAS is loaded or none of those loaded can be told to be NumPy's.
    """
    from threadpoolctl import threadpool_info

    pools = [p for p in (threadpool_info() if info is None else info) if p.get("user_api") == "blas"]
    if not pools:
        raise LookupError("no BLAS library is loaded (import numpy and call a BLAS routine first)")
    numpy_dir = Path(np.__file__).resolve().parent
    own = [p for p in pools if Path(p["filepath"]).resolve().parent in (numpy_dir.parent / "numpy.libs", numpy_dir)]
    if len(own) == 1:
        return own[0]
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    named = [
        p
        for p in pools
        if p.get("version") == blas.get("version")
        and str(blas.get("name", "")).replace("scipy-", "").startswith(p.get("internal_api", "?"))
    ]
    if len(named) == 1:
        return named[0]
    if len(pools) == 1:
        return pools[0]
    raise LookupError(
        f"cannot tell which of the loaded BLAS libraries NumPy calls: {[p['filepath'] for p in pools]} "
        f"(NumPy was built against {blas.get('name')} {blas.get('version')})"
    )


# ---------------------------------------------------------------------------
# Plotting
# ---------------------------------------------------------------------------

#: Okabe and Ito's palette, distinguishable with the common colour-vision deficiencies, with its three
#: light colours (orange, sky blue, yellow: 1.3 to 2.3:1 on white) replaced by dark brown, navy and teal,
#: so that every colour reaches the 3:1 contrast WCAG asks of graphics on the figures' background in
#: both of the site's modes (tests/test_browser.py measures it as shown).
COLORS = ["#0072B2", "#663322", "#009E73", "#D55E00", "#CC79A7", "#001177", "#005555", "#000000"]


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


if mpl is not None:
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
    tick, so the reader sees the spread.  ``timings`` may be a
    :class:`Comparison`.  Returns the matplotlib ``Figure``.
    """
    if isinstance(timings, Comparison):
        timings = timings.timings
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


def samples_plot(
    timings: Comparison | Sequence[Timing],
    *,
    title: str,
    log: bool = False,
    ax=None,
):
    """Every sample of each version as a dot, with a black bar at its median: the variability behind a summary.

    One row per version (``timings`` may be a :class:`Comparison`).  The time
    axis starts at zero unless ``log=True``.  There is no legend: say in the
    caption that dots are runs and bars are medians.  Returns the matplotlib
    ``Figure``.
    """
    if isinstance(timings, Comparison):
        timings = timings.timings
    timings = list(timings)
    if not timings or not all(isinstance(t, Timing) for t in timings):
        raise ValueError("samples_plot needs a Comparison or at least one Timing")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.0, 0.7 * len(timings) + 1.4))
    else:
        fig = ax.figure
    med = np.array([t.median for t in timings])
    scale, unit = next(((s, u) for s, u in _TIME_UNITS if med.min() >= s), _TIME_UNITS[-1])
    y = np.arange(len(timings))[::-1]
    for i, (yi, t) in enumerate(zip(y, timings)):
        samples = np.asarray(t.times) / scale
        offsets = np.linspace(-0.18, 0.18, len(samples)) if len(samples) > 1 else np.zeros(1)
        color = COLORS[i % len(COLORS)]
        ax.scatter(samples, yi + offsets, s=14, color=color, alpha=0.6, zorder=3)
        ax.plot([t.median / scale] * 2, [yi - 0.3, yi + 0.3], color="k", linewidth=2, zorder=4)
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(mpl.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(mpl.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    else:
        ax.set_xlim(0, max(max(t.times) for t in timings) / scale * 1.1)
    ax.set_yticks(y, [f"{t.label} ({t.repeat} runs)" for t in timings])
    ax.set_ylim(-0.6, len(timings) - 0.4)
    ax.set_xlabel(f"time per call ({unit})" + (", log scale" if log else ""))
    ax.set_title(title)
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
    times : sequence of float, Comparison, or dict label -> either
        Seconds, one per ``x``.  A :class:`Comparison` gives its versions'
        medians in order.  Several series may be passed as a dict.
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
    series = {name: [t.median for t in ys.timings] if isinstance(ys, Comparison) else ys for name, ys in series.items()}
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

_LIBRARIES = ["numpy", "scipy", "numba", "jax", "jaxlib", "matplotlib", "torch", "cupy"]


#: Set by the Makefile to the load average (1, 5, 15 minutes) when the build started.
BUILD_LOAD_ENV = "LECTURES_BUILD_LOAD"

#: Vector (SIMD) extensions worth naming, as py-cpuinfo spells them (x86, then Arm).
_VECTOR_FLAGS = [
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512vnni",
    "avx512_bf16",
    "amx_tile",
    "asimd",
    "sve",
    "sve2",
]


@functools.lru_cache(maxsize=1)
def _cpu_info() -> dict[str, Any]:
    try:
        import cpuinfo  # py-cpuinfo

        return cpuinfo.get_cpu_info()
    except Exception:  # pragma: no cover - py-cpuinfo missing or unsupported here
        return {}


def cpu_model() -> str:
    """The CPU's model name, e.g. 'AMD EPYC 7B13' (from py-cpuinfo, else /proc/cpuinfo, else the platform module)."""
    brand = _cpu_info().get("brand_raw")
    if not brand and Path("/proc/cpuinfo").is_file():
        names = [
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name") and ":" in line
        ]
        brand = names[0] if names else None
    return brand or platform.processor() or platform.machine() or "unknown"


def vector_extensions() -> list[str]:
    """The CPU's vector (SIMD) instruction-set extensions, e.g. ``['sse4_2', 'avx', 'avx2', 'fma']``."""
    flags = set(_cpu_info().get("flags", []))
    return [flag for flag in _VECTOR_FLAGS if flag in flags]


def _caches() -> list[tuple[str, int, int]]:
    """(level, bytes, cores sharing it) for each data or unified cache; sharing 0 where unknown."""
    caches = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            kind = (index / "type").read_text().strip()
            if kind == "Instruction":
                continue
            name = f"L{(index / 'level').read_text().strip()}" + ("d" if kind == "Data" else "")
            size = (index / "size").read_text().strip()
            number = int(size.rstrip("KMG")) * {"K": 2**10, "M": 2**20, "G": 2**30}.get(size[-1], 1)
            sharing = _cpu_list_length((index / "shared_cpu_list").read_text())
        except (OSError, ValueError):
            continue
        caches.append((name, number, sharing))
    if not caches:
        info = _cpu_info()
        for name, key in [("L1d", "l1_data_cache_size"), ("L2", "l2_cache_size"), ("L3", "l3_cache_size")]:
            if info.get(key):
                caches.append((name, int(info[key]), 0))
    return caches


def cache_bytes() -> dict[str, int]:
    """Data and unified cache sizes in bytes by level, e.g. ``{'L1d': 32768, 'L2': 524288, 'L3': 16777216}``.

    Empty where neither ``/sys`` (Linux) nor py-cpuinfo reports them.
    """
    return {name: number for name, number, _ in _caches()}


def cache_sizes() -> dict[str, str]:
    """Data and unified cache sizes by level, e.g. ``{'L1d': '32 KiB per core', 'L3': '16 MiB shared by 2 cores'}``.

    Read from ``/sys`` on Linux (which also says how many cores share each
    cache), from py-cpuinfo elsewhere.
    """
    return {
        name: format_bytes(number) + (f" shared by {sharing} cores" if sharing > 1 else " per core" if sharing else "")
        for name, number, sharing in _caches()
    }


def _cpu_list_length(text: str) -> int:
    """Number of CPUs in a Linux CPU list such as '0-3,8'."""
    count = 0
    for part in text.strip().split(","):
        first, _, last = part.partition("-")
        count += int(last or first) - int(first) + 1
    return count


def _gpus_from_driver() -> list[str]:
    """GPU names from ``nvidia-smi -L`` (no Python library imported); empty without an NVIDIA driver."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(" (UUID")[0].split(": ", 1)[-1] for line in out.splitlines() if line.startswith("GPU")]


def machine_fingerprint() -> str:
    """A short hash of what makes this machine's timings its own.

    CPU model, vector extensions, caches, the cores this process may use,
    memory (whole GiB) and GPUs.  The build keys its execution cache on it
    (``scripts/cache_key.py``), so that a cached page never shows another
    machine's numbers under this machine's description.
    """
    import json

    import psutil

    parts = {
        "cpu": cpu_model(),
        "vector": vector_extensions(),
        "caches": cache_sizes(),
        "cores": cores(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30),
        "gpus": _gpus_from_driver(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _load_text(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values) + f" (1, 5 and 15 minutes; {cores()} cores)"


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

    Returns an ordered ``dict`` of strings: CPU model, vector extensions,
    caches, physical and logical cores, the cores this process may use,
    memory, the load average when the build started and now, accelerators,
    the machine fingerprint and the versions of the numerical libraries
    that are installed.
    """
    import psutil

    info = {
        "CPU": cpu_model(),
        "vector extensions": ", ".join(vector_extensions()) or "none detected",
        "caches": "; ".join(f"{name} {size}" for name, size in cache_sizes().items()) or "not reported",
        "physical cores": str(psutil.cpu_count(logical=False)),
        "logical cores": str(psutil.cpu_count(logical=True)),
        "cores available to this process": str(cores()),
        "memory": format_bytes(psutil.virtual_memory().total),
    }
    at_start = os.environ.get(BUILD_LOAD_ENV)
    if at_start:
        info["load average when the build started"] = _load_text([float(v) for v in at_start.split()])
    if hasattr(os, "getloadavg"):
        info["load average when this page ran"] = _load_text(os.getloadavg())
    info["operating system"] = f"{platform.system()} {platform.release()}"
    info["Python"] = platform.python_version()
    accel = _accelerators()
    info["accelerators"] = ", ".join(accel) if accel else "none (CPU only)"
    info["machine fingerprint"] = machine_fingerprint()
    info.update(library_versions(_LIBRARIES))
    return info


def library_versions(names: Sequence[str]) -> dict[str, str]:
    """The installed version of each named distribution; those not installed are left out."""
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


# ---------------------------------------------------------------------------
# Results recorded on other machines, with their provenance
# ---------------------------------------------------------------------------
# A page may show results that this build did not measure only from a record in
# lectures/data/ that says where they come from: `make record` (scripts/record.py)
# writes one per machine, record-<machine>.json.

#: The format of a record; a record of another format is refused.
RECORD_FORMAT = 2
#: Top-level fields every record must have filled in.
PROVENANCE_FIELDS = ("format", "date_utc", "command", "machine", "library_versions", "settings")
#: Fields inside ``machine``.
MACHINE_FIELDS = ("cpu_model", "cpu_cores", "logical_cpus", "memory_bytes", "operating_system", "python")
#: Fields inside ``gpu``, which is null on a machine without one.
GPU_FIELDS = ("device_name", "device_memory_bytes", "compute_capability", "driver_version", "cuda_version")
#: Fields of every CPU scaling curve in ``scaling``, and of each of its points.
SCALING_FIELDS = ("kernel", "description", "size", "control", "points")
#: (``busy_cores`` may be null where the recording machine could not count them.)
POINT_FIELDS = ("threads", "median_s", "min_s", "samples_s", "ratio", "low", "high")
#: Fields of every entry of ``results`` (``threads``, the CPU threads used, is None for GPU entries).
RESULT_FIELDS = ("benchmark", "version", "device", "dtype", "size", "median_s", "min_s", "samples_s")


def _missing(mapping: Any, fields: tuple[str, ...], prefix: str = "") -> list[str]:
    if not isinstance(mapping, dict):
        return [f"{prefix}{name}" for name in fields]
    return [f"{prefix}{name}" for name in fields if mapping.get(name) in (None, "", [], {})]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _sample_problems(entry: dict, where: str) -> list[str]:
    """The raw samples must be there, positive, and give the median and minimum stated beside them."""
    samples = entry["samples_s"]
    if not isinstance(samples, list) or not all(_is_number(t) and t > 0 for t in samples):
        return [f"{where}.samples_s must be a list of positive seconds"]
    if not all(_is_number(entry[key]) for key in ("median_s", "min_s")):
        return [f"{where}.median_s and min_s must be numbers"]
    problems = []
    if not math.isclose(float(np.median(samples)), entry["median_s"], rel_tol=1e-9):
        problems.append(f"{where}.median_s is not the median of its samples")
    if not math.isclose(min(samples), entry["min_s"], rel_tol=1e-9):
        problems.append(f"{where}.min_s is not the fastest of its samples")
    return problems


def _curve_problems(curve: dict, where: str) -> list[str]:
    """A scaling curve's points: thread counts from 1, one sample per round each, ratios that the samples give."""
    points = curve["points"]
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        return [f"{where}.points must be a list of objects"]
    problems = []
    threads = [p.get("threads") for p in points]
    if (
        threads[0] != 1
        or not all(isinstance(t, int) and not isinstance(t, bool) for t in threads)
        or threads != sorted(set(threads))
    ):
        problems.append(f"{where}.points must start at 1 thread and increase, got {threads}")
    for k, point in enumerate(points):
        point_missing = _missing(point, POINT_FIELDS, f"{where}.points[{k}].")
        problems += point_missing or _sample_problems(point, f"{where}.points[{k}]")
        busy = point.get("busy_cores")
        if busy is not None and not (_is_number(busy) and busy >= 0):
            problems.append(f"{where}.points[{k}].busy_cores must be a number of cores or null")
    if problems:
        return problems
    rounds = {len(p["samples_s"]) for p in points}
    if len(rounds) != 1:
        return [f"{where}: every thread count needs one sample per round, got {sorted(rounds)} samples"]
    for k, point in enumerate(points):
        expected = (1.0, 1.0, 1.0)
        if k:
            try:
                v = _verdict("p", "1", point["samples_s"], points[0]["samples_s"], NOISE_THRESHOLD)
            except ValueError:  # too few rounds for an interval
                return [f"{where}: too few rounds ({len(point['samples_s'])}) to give an interval"]
            expected = (v.ratio, v.low, v.high)
        stated = tuple(point[key] for key in ("ratio", "low", "high"))
        if not all(_is_number(x) and math.isclose(x, y, rel_tol=1e-9) for x, y in zip(stated, expected)):
            problems.append(f"{where}.points[{k}]: ratio, low and high are not what its samples give")
    return problems


def validate_recorded_results(data: Any) -> None:
    """Raise ValueError naming every provenance or result field that is missing, empty or inconsistent.

    Besides the provenance it checks the numbers against the raw samples: each
    median and minimum, and each scaling point's speed ratio over one thread
    and its interval, recomputed from the per-round samples as :func:`compare`
    computes them.  A hand-edited number fails.
    """
    import datetime as dt

    if not isinstance(data, dict):
        raise ValueError(f"a record must be a JSON object, got {type(data).__name__}")
    if "format" in data and data["format"] != RECORD_FORMAT:
        raise ValueError(
            f"record format {data['format']!r}; this site reads format {RECORD_FORMAT} (rerun make record)"
        )
    missing = _missing(data, PROVENANCE_FIELDS)
    if "machine" not in missing:
        missing += _missing(data["machine"], MACHINE_FIELDS, "machine.")
        cores = data["machine"].get("cpu_cores") if isinstance(data["machine"], dict) else None
        if cores is not None and not (isinstance(cores, int) and not isinstance(cores, bool) and cores >= 1):
            missing.append(f"machine.cpu_cores must be a whole number of CPUs, got {cores!r}")
    if "library_versions" not in missing and not isinstance(data["library_versions"], dict):
        missing.append("library_versions (must be an object)")
    notes = data.get("notes")
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        missing.append("notes (a list of strings, empty where there is nothing to note)")
    command = data.get("command")
    if isinstance(command, str) and any(part.startswith(("/", "~")) for part in command.split()):
        missing.append(f"command holds a local path: {command!r}")
    if "gpu" not in data:
        missing.append("gpu (null on a machine without one)")
    elif data["gpu"] is not None:
        missing += _missing(data["gpu"], GPU_FIELDS, "gpu.")
    scaling, results = data.get("scaling"), data.get("results")
    if not isinstance(scaling, list) or not isinstance(results, list):
        missing.append("scaling and results (must be lists)")
    elif not scaling and not results:
        missing.append("scaling and results (both empty: nothing was recorded)")
    else:
        kernels = []
        cores = data["machine"].get("cpu_cores") if isinstance(data.get("machine"), dict) else None
        for i, curve in enumerate(scaling):
            where = f"scaling[{i}]"
            curve_missing = _missing(curve, SCALING_FIELDS, f"{where}.")
            missing += curve_missing or _curve_problems(curve, where)
            if not curve_missing and isinstance(cores, int) and isinstance(curve["points"], list):
                top = max((p.get("threads", 0) for p in curve["points"] if isinstance(p, dict)), default=0)
                if isinstance(top, int) and top > cores:
                    missing.append(f"{where}: {top} threads on a machine with {cores} CPUs")
            if isinstance(curve, dict):
                kernels.append(curve.get("kernel"))
        missing += [
            f"scaling: kernel {k!r} recorded twice" for k in sorted(set(kernels), key=str) if kernels.count(k) > 1
        ]
        for i, entry in enumerate(results):
            entry_missing = _missing(entry, RESULT_FIELDS, f"results[{i}].")
            missing += entry_missing or _sample_problems(entry, f"results[{i}]")
            if entry_missing:
                continue
            if entry["device"] not in ("cpu", "gpu"):
                missing.append(f"results[{i}].device must be 'cpu' or 'gpu', got {entry['device']!r}")
            elif entry["device"] == "gpu" and not data.get("gpu"):
                missing.append(f"results[{i}] ran on a GPU, but the record describes none (gpu)")
    if missing:
        raise ValueError("a record without complete provenance or raw samples: " + "; ".join(missing))
    try:
        date = dt.datetime.fromisoformat(str(data["date_utc"]))
    except ValueError:
        raise ValueError(f"date_utc is not an ISO 8601 date: {data['date_utc']!r}") from None
    if date.tzinfo is None:
        raise ValueError(f"date_utc has no time zone: {data['date_utc']!r} (make record writes UTC, +00:00)")


def load_recorded_results(path: str | os.PathLike) -> dict:
    """Read a record and check it (:func:`validate_recorded_results`).

    Raises FileNotFoundError if there is no file, and ValueError (naming the
    fields) if it is not JSON or lacks any part of its provenance or samples.
    """
    import json

    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name} is not valid JSON: {err}") from None
    try:
        validate_recorded_results(data)
    except ValueError as err:
        raise ValueError(f"{path.name}: {err}") from None
    return data


def records_folder() -> Path:
    """The repository's ``lectures/data`` folder, from a lecture's folder or the repository root."""
    return next((p for p in [Path("data"), Path("lectures", "data")] if p.is_dir()), Path("data"))


def load_records(folder: str | os.PathLike | None = None) -> list[dict]:
    """Every record (``record-*.json``) in ``folder`` (default :func:`records_folder`), checked, oldest first.

    A folder that does not exist (a downloaded notebook has none) gives an
    empty list; a record that fails its check raises, naming the file.
    """
    folder = records_folder() if folder is None else Path(folder)
    records = [load_recorded_results(path) for path in sorted(folder.glob("record-*.json"))]
    return sorted(records, key=lambda r: r["date_utc"])


def record_label(data: dict, gpu: bool = True) -> str:
    """Where and when a record was made: 'NVIDIA H200, AMD EPYC 9454 (16 CPUs), 2026-12-06'.

    With ``gpu=False`` the GPU is left out, for results that ran on the CPU.
    ``CPUs`` are those the recording process could use (:func:`cores`).
    """
    where = f"{data['machine']['cpu_model']} ({data['machine']['cpu_cores']} CPUs)"
    if gpu and data.get("gpu"):
        where = f"{data['gpu']['device_name']}, {where}"
    return f"{where}, {str(data['date_utc'])[:10]}"


def record_scaling(data: dict, kernel: str) -> dict | None:
    """One kernel's CPU scaling curve of a record, or None where the record has none.

    Returns ``{"threads", "speedup", "low", "high", "median_s", "size",
    "description"}``: arrays over the thread counts, the speedup being over
    the record's own one-thread time with its 95 % interval.
    """
    curve = next((c for c in data.get("scaling", []) if c["kernel"] == kernel), None)
    if curve is None:
        return None
    points = curve["points"]
    return {
        "threads": np.array([p["threads"] for p in points]),
        "speedup": np.array([p["ratio"] for p in points]),
        "low": np.array([p["low"] for p in points]),
        "high": np.array([p["high"] for p in points]),
        "median_s": np.array([p["median_s"] for p in points]),
        "size": curve["size"],
        "description": curve["description"],
    }


def plot_recorded_scaling(
    ax, kernel: str, threads: Sequence[int], verdicts: Sequence[Verdict], records: Sequence[dict]
) -> list[str]:
    """Draw, on ``ax``, each record's speedup curve for ``kernel`` with this build's own points over it.

    ``verdicts[i]`` is this build's verdict of ``threads[i]`` threads against
    one thread (``threads[0]`` must be 1, with ``verdicts[0]`` None).  Speedups
    are over each machine's own one-thread time, with 95 % intervals, on
    linear axes (where a loss shows as a gap below the ideal line).  Curves
    are labelled without the machine's GPU.  Returns the labels of the records
    drawn (:func:`record_label`); records without the kernel are left out.
    """
    if len(threads) != len(verdicts) or not threads or threads[0] != 1 or verdicts[0] is not None:
        raise ValueError("plot_recorded_scaling needs threads starting at 1 and one verdict per thread count after it")
    import textwrap

    drawn = []
    top = max(threads)
    for k, data in enumerate(records):
        curve = record_scaling(data, kernel)
        if curve is None:
            continue
        color = COLORS[(k + 1) % len(COLORS)]
        label = record_label(data, gpu=False)
        ax.fill_between(curve["threads"], curve["low"], curve["high"], color=color, alpha=0.2, linewidth=0)
        ax.plot(curve["threads"], curve["speedup"], "o-", color=color, label=textwrap.fill(f"recorded: {label}", 34))
        drawn.append(label)
        top = max(top, int(curve["threads"][-1]))
    ratio = np.array([1.0] + [v.ratio for v in verdicts[1:]])
    low = np.array([1.0] + [v.low for v in verdicts[1:]])
    high = np.array([1.0] + [v.high for v in verdicts[1:]])
    ax.errorbar(
        threads,
        ratio,
        yerr=[ratio - low, high - ratio],
        fmt="s",
        color=COLORS[0],
        markersize=7,
        capsize=4,
        label="this build",
    )
    ax.plot([1, top], [1, top], "--", color="0.4", label="ideal")
    ticks = sorted({1, top, *threads, *[2**k for k in range(1, math.floor(math.log2(top)) + 1)]})
    ax.set_xticks(ticks)
    ax.set_xlim(0, top + 1)
    ax.set_ylim(0, top + 1)
    ax.set_xlabel("threads")
    ax.set_ylabel("speedup over one thread")
    ax.legend(loc="upper left", fontsize=7)
    return drawn


def recorded_scaling_sentence(kernel: str, records: Sequence[dict], build_threads: int) -> str:
    """What the records say about ``kernel``'s scaling, as one or two sentences for the page.

    Without a record of the kernel it says that none is at hand; with
    records it names each (:func:`record_label`, without the GPU) and quotes the
    largest thread count recorded, its speedup over one thread and the 95 %
    interval, labelled as recorded rather than measured by this build.
    """
    _check_count("build_threads", build_threads, 1)
    curves = [(data, record_scaling(data, kernel)) for data in records]
    curves = [(data, curve) for data, curve in curves if curve is not None]
    if not curves:
        return (
            f"No machine with more cores has been recorded for this figure yet (and a downloaded notebook "
            f"never has the site's records), so the figure stops at this build's {build_threads} "
            f"thread{'s' if build_threads > 1 else ''}."
        )
    data, curve = max(curves, key=lambda item: (item[1]["threads"][-1], item[0]["date_utc"]))
    size = ", ".join(f"{key} = {value:,}" for key, value in curve["size"].items())
    where = "There" if len(curves) == 1 else f"On {record_label(data, gpu=False)}, the record with the most threads"
    return (
        f"Recorded by make record, not by this build, on "
        f"{'; on '.join(record_label(d, gpu=False) for d, _ in curves)} (UTC dates). {where}, on "
        f"{curve['threads'][-1]} threads the kernel ran {curve['speedup'][-1]:.1f} times as fast as on one "
        f"(95 % interval {curve['low'][-1]:.1f} to {curve['high'][-1]:.1f}), with {size}."
    )
