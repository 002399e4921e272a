"""The task-parallelism lecture executed, checked its results against the serial loops, and glued what its prose relies on.

Timings vary from build to build (and with whatever else runs on the machine), so
these tests check that measured values exist and are sane, and that the sentences
built from them agree with them, never speed targets. What every lecture must do
(run without errors or stderr, ...) is checked in tests/test_lectures.py.
"""

import math

from conftest import source, tags, text_output

LECTURE = "tasks"

FLOATS = [
    "cpu-thread-speedup", "cpu-process-speedup", "cpu-thread-busy", "cpu-process-busy", "cpu-serial-busy",
    "io-thread-speedup", "io-process-speedup", "io-many-speedup", "process-per-task-s", "chunk-gain",
    "start-fork-s", "start-forkserver-s", "start-spawn-s",
]
TIMES = [
    "cpu-serial-time", "io-serial-time", "io-many-time", "loop-per-task", "thread-per-task", "process-per-task",
    "chunked-per-task", "task-1-percent", "start-fork", "start-forkserver", "start-spawn",
]
SENTENCES = ["cpu-sentence", "io-sentence", "start-sentence"]
START_METHODS = ["fork", "forkserver", "spawn"]
UNITS = {"s", "ms", "µs", "ns"}


def test_numbers_exist_and_are_finite(lecture):
    values = lecture(LECTURE).glued
    for name in FLOATS:
        assert isinstance(values[name], float) and math.isfinite(values[name]) and values[name] > 0, name
    for name in TIMES:
        assert values[name].split()[-1] in UNITS, (name, values[name])
    for name in SENTENCES:
        assert isinstance(values[name], str) and len(values[name]) > 40, name
    for name in ["fig-threads-processes", "fig-chunksize"]:
        assert values[name].startswith("<Figure"), name
    assert values["cores"] >= 1 and values["workers"] >= 2
    assert values["cpu-tasks"] >= values["workers"]
    assert values["io-tasks"] > values["workers"]


def test_compute_bound_sentence_follows_measurements(lecture):
    values = lecture(LECTURE).glued
    sentence = values["cpu-sentence"]
    assert f"{values['cpu-thread-speedup']:.2f}" in sentence
    assert f"{values['cpu-process-speedup']:.2f}" in sentence
    assert ("took turns at the GIL" in sentence) == (values["cpu-thread-busy"] < 1.3)
    assert ("each has its own GIL" in sentence) == (values["cpu-process-speedup"] > 1.2)
    if "even the serial loop" in sentence:
        assert values["cpu-serial-busy"] < 0.9


def test_waiting_tasks_overlap_in_threads(lecture):
    values = lecture(LECTURE).glued
    assert values["io-many-speedup"] > values["io-thread-speedup"]          # checked in the lecture too
    assert values["io-many-speedup"] > 1
    sentence = values["io-sentence"]
    assert f"{values['io-many-speedup']:.1f}" in sentence
    assert ("did at least as well" in sentence) == (values["io-thread-speedup"] >= values["io-process-speedup"])


def test_start_methods(lecture):
    values = lecture(LECTURE).glued
    assert values["unpickle-error"].startswith("AttributeError") and "cpu_task" in values["unpickle-error"]
    medians = {m: values[f"start-{m}-s"] for m in START_METHODS}
    fastest, slowest = min(medians, key=medians.get), max(medians, key=medians.get)
    sentence = values["start-sentence"]
    assert f"with {fastest}, the fastest" in sentence and f"with {slowest}, the slowest" in sentence


def test_chunking_reduces_the_cost_per_task(lecture):
    values = lecture(LECTURE).glued
    assert values["chunk-gain"] > 1.5
    assert values["largest-chunksize"] == "1,000"


def test_free_threading_check(lecture):
    values = lecture(LECTURE).glued
    assert values["free-threaded-build"] in {"a free-threaded build", "a standard build, with the GIL"}
    assert values["gil-now"] in {"on", "off"}
    if values["free-threaded-build"].startswith("a standard"):
        assert values["gil-now"] == "on"


def test_demonstrations_printed_what_the_prose_says(lecture):
    out = text_output(lecture(LECTURE).cell("unguarded = run_script(UNGUARDED)"))
    assert "bootstrapping phase" in out and "BrokenProcessPool" in out
    pickled = lecture(LECTURE).cell("payload = pickle.dumps(cpu_task)")
    assert "names the module __main__: True" in text_output(pickled)


def test_results_were_checked_against_the_serial_loops(lecture):
    """The cells that compare with the serial results are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "assert runner(cpu_task, CPU_TASKS, WORKERS) == cpu_reference",
        "assert runner(io_task, IO_TASKS, WORKERS) == io_reference",
        "assert map_on(pool, chunksize) == tiny_reference",
        "assert t.result == [x * x for x in range(workers)]",
        "assert io_many_speedup > io_thread_speedup",
        "assert chunk_per_task[-1] < chunk_per_task[0] / 1.5",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_timing_cells_are_tagged(lecture):
    """Cells that time with timeit_and_cores print speedups and busy cores, not only durations
    (which tests/test_lectures.py finds): tagged timing, `make check-determinism` skips them."""
    timed = [c for c in lecture(LECTURE).code_cells
             if ("lu.timeit(" in source(c) or "timeit_and_cores(" in source(c))
             and "def timeit_and_cores" not in source(c) and "GUARDED = " not in source(c)]
    assert len(timed) >= 5
    for cell in timed:
        assert "timing" in tags(cell), source(cell)[:200]


def test_pools_are_shut_down_by_with_blocks(lecture):
    pools = [c for c in lecture(LECTURE).code_cells if "PoolExecutor(" in source(c)]
    assert pools
    for cell in pools:
        for line in source(cell).splitlines():
            if "PoolExecutor(" in line and "import" not in line and not line.lstrip().startswith("#"):
                assert line.strip().startswith("with "), line
