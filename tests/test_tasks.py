"""The task-parallelism lecture executed, checked its results against the serial loops, and glued what its prose relies on.

Timings vary from build to build (and with whatever else runs on the machine), so
these tests check that measured values exist and are sane, and that the sentences
built from them agree with them, never speed targets.
"""

import math
import re

import pytest

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
LOCAL_PATH = re.compile(r"/(tmp|root|home|work|Users)/")
UNITS = {"s", "ms", "µs", "ns"}


@pytest.fixture(scope="module")
def values(glued):
    return glued(LECTURE)


@pytest.fixture(scope="module")
def code_cells(executed_notebook):
    return [c for c in executed_notebook(LECTURE)["cells"] if c["cell_type"] == "code"]


def source(cell):
    return "".join(cell["source"])


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def text_output(cell):
    parts = []
    for out in cell["outputs"]:
        if out["output_type"] == "stream":
            parts.append("".join(out["text"]))
        elif out["output_type"] in ("execute_result", "display_data"):
            parts.append("".join(out["data"].get("text/plain", "")))
    return "".join(parts)


def test_numbers_exist_and_are_finite(values):
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


def test_compute_bound_sentence_follows_measurements(values):
    sentence = values["cpu-sentence"]
    assert f"{values['cpu-thread-speedup']:.2f}" in sentence
    assert f"{values['cpu-process-speedup']:.2f}" in sentence
    assert ("took turns at the GIL" in sentence) == (values["cpu-thread-busy"] < 1.3)
    assert ("each has its own GIL" in sentence) == (values["cpu-process-speedup"] > 1.2)
    if "even the serial loop" in sentence:
        assert values["cpu-serial-busy"] < 0.9


def test_waiting_tasks_overlap_in_threads(values):
    assert values["io-many-speedup"] > values["io-thread-speedup"]          # checked in the lecture too
    assert values["io-many-speedup"] > 1
    sentence = values["io-sentence"]
    assert f"{values['io-many-speedup']:.1f}" in sentence
    assert ("did at least as well" in sentence) == (values["io-thread-speedup"] >= values["io-process-speedup"])


def test_start_methods(values):
    assert values["unpickle-error"].startswith("AttributeError") and "cpu_task" in values["unpickle-error"]
    medians = {m: values[f"start-{m}-s"] for m in START_METHODS}
    fastest, slowest = min(medians, key=medians.get), max(medians, key=medians.get)
    sentence = values["start-sentence"]
    assert f"with {fastest}, the fastest" in sentence and f"with {slowest}, the slowest" in sentence


def test_chunking_reduces_the_cost_per_task(values):
    assert values["chunk-gain"] > 1.5
    assert values["largest-chunksize"] == "1,000"


def test_free_threading_check(values):
    assert values["free-threaded-build"] in {"a free-threaded build", "a standard build, with the GIL"}
    assert values["gil-now"] in {"on", "off"}
    if values["free-threaded-build"].startswith("a standard"):
        assert values["gil-now"] == "on"


def test_demonstrations_printed_what_the_prose_says(code_cells):
    unguarded = [c for c in code_cells if "unguarded = run_script(UNGUARDED)" in source(c)]
    assert len(unguarded) == 1
    out = text_output(unguarded[0])
    assert "bootstrapping phase" in out and "BrokenProcessPool" in out
    pickled = [c for c in code_cells if "payload = pickle.dumps(cpu_task)" in source(c)]
    assert "names the module __main__: True" in text_output(pickled[0])


def test_checks_ran_without_errors_stderr_or_local_paths(code_cells):
    for cell in code_cells:
        assert cell.get("execution_count") is not None, source(cell)[:200]
        for out in cell["outputs"]:
            assert out["output_type"] != "error", source(cell)[:200]
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"stderr in cell:\n{source(cell)[:200]}\n{''.join(out['text'])[:500]}")
            assert not LOCAL_PATH.search(text_output({"outputs": [out]})), source(cell)[:200]
    for snippet in [
        "assert runner(cpu_task, CPU_TASKS, WORKERS) == cpu_reference",
        "assert runner(io_task, IO_TASKS, WORKERS) == io_reference",
        "assert map_on(pool, chunksize) == tiny_reference",
        "assert t.result == [x * x for x in range(workers)]",
        "assert io_many_speedup > io_thread_speedup",
        "assert chunk_per_task[-1] < chunk_per_task[0] / 1.5",
    ]:
        assert any(snippet in source(c) for c in code_cells), f"no cell contains {snippet!r}"


def test_timing_cells_are_tagged(code_cells):
    timed = [c for c in code_cells
             if ("lu.timeit(" in source(c) or "timeit_and_cores(" in source(c))
             and "def timeit_and_cores" not in source(c) and "GUARDED = " not in source(c)]
    assert len(timed) >= 5
    for cell in timed:
        assert "timing" in tags(cell), source(cell)[:200]


def test_pools_are_shut_down_by_with_blocks(code_cells):
    pools = [c for c in code_cells if "PoolExecutor(" in source(c)]
    assert pools
    for cell in pools:
        for line in source(cell).splitlines():
            if "PoolExecutor(" in line and "import" not in line and not line.lstrip().startswith("#"):
                assert line.strip().startswith("with "), line
