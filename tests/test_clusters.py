"""The clusters lecture executed, its parallel results matched the serial ones, every cluster was shut down, and its prose agrees with what it measured.

Start-up times and overheads vary from build to build, so these tests check that
they exist, are sane and agree with the sentences built from them, never speed
targets. The one hard requirement: no process the lecture started outlives it.
What every lecture must do (run without errors or stderr, ...) is checked in
tests/test_lectures.py.
"""

import math
import re

import pytest

from conftest import source, tags, text_output

LECTURE = "clusters"

FLOATS = [
    "loo-rmse", "y-sd", "loo-direct-speedup", "loo-balanced-speedup", "dask-threads-speedup",
    "dask-processes-speedup", "dask-distributed-speedup", "dask-threads-busy", "ray-store-mib", "big-mib",
]
KEYS = ["pool", "ipp", "dask", "cli", "ray"]
TASK_KEYS = ["pool", "ipp", "dask", "ray"]
TIMES = ["loo-serial-time", "dask-loop-time", "dask-processes-time", "start-ray-first"]
SENTENCES = ["loo-sentence", "dask-sentence", "choice-sentence"]
NAMES = {"ipp": "ipyparallel", "dask": "Dask LocalCluster", "cli": "dask scheduler + dask worker", "ray": "Ray"}
UNITS = {"s", "ms", "µs", "ns"}


def test_no_process_outlives_the_lecture(lecture):
    values = lecture(LECTURE).glued
    assert values["children-left"] == 0
    assert values["children-at-start"] == 0
    last = lecture(LECTURE).code_cells[-1]
    assert "children_left = len(live_new_children())" in source(last), "the child-process check must be the last cell"
    assert "child processes still running: 0" in text_output(last)


def test_numbers_exist_and_are_finite(lecture):
    values = lecture(LECTURE).glued
    for name in FLOATS:
        assert isinstance(values[name], float) and math.isfinite(values[name]) and values[name] > 0, name
    for name in TIMES:
        assert values[name].split()[-1] in UNITS, (name, values[name])
    for key in KEYS:
        assert values[f"start-{key}"].split()[-1] in UNITS
        assert values[f"start-{key}-s"] > 0
    for key in TASK_KEYS:
        assert values[f"task-{key}"].split()[-1] in UNITS
        assert values[f"task-{key}-s"] > 0
    for name in SENTENCES:
        assert isinstance(values[name], str) and len(values[name]) > 40, name
    assert values["fig-dask-schedulers"].startswith("<Figure")


def test_sizes_and_deterministic_results(lecture):
    values = lecture(LECTURE).glued
    assert values["workers"] == 2
    assert values["graph-size"] == values["tasks"] + 1              # the tasks and their sum
    assert values["loo-rmse"] < values["y-sd"]                       # the forest predicts better than the mean
    assert values["ray-store-mib"] == pytest.approx(values["object-store-mb"], rel=0.01)
    assert values["big-mib"] == pytest.approx(8e6 / 2**20)


def test_sentences_follow_measurements(lecture):
    values = lecture(LECTURE).glued
    loo = values["loo-sentence"]
    assert f"{values['loo-direct-speedup']:.2f}" in loo and f"{values['loo-balanced-speedup']:.2f}" in loo
    ratio = values["loo-balanced-speedup"] / values["loo-direct-speedup"]
    assert ("The load-balanced view was faster" in loo) == (ratio > 1.1)
    assert ("within 10 % of each other" in loo) == (0.9 <= ratio <= 1.1)
    dask_sentence = values["dask-sentence"]
    assert f"{values['dask-threads-busy']:.2f}" in dask_sentence
    assert ("under the GIL one thread computes" in dask_sentence) == (values["dask-threads-busy"] < 1.3)
    assert ("whose workers were already running, ran" in dask_sentence) == (
        values["dask-distributed-speedup"] > values["dask-processes-speedup"])
    starts = {key: values[f"start-{key}-s"] for key in KEYS[1:]}
    tasks = {key: values[f"task-{key}-s"] for key in TASK_KEYS[1:]}
    choice = values["choice-sentence"]
    assert f"{NAMES[min(starts, key=starts.get)]} started fastest" in choice
    assert f"{NAMES[max(starts, key=starts.get)]} slowest" in choice
    assert f"{NAMES[min(tasks, key=tasks.get)]} cost least" in choice
    beat_all = values["start-pool-s"] < min(starts.values()) and values["task-pool-s"] < min(tasks.values())
    assert ("beat them all" in choice) == beat_all


def test_parallel_results_were_checked_against_serial(lecture):
    """The cells that compare with the serial results are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "assert loo_direct == loo_reference and loo_balanced == loo_reference",
        "assert dask_compute(**options) == cpu_reference, name",
        "assert total_future.result() == sum(cpu_reference)",
        "assert dask_compute(scheduler=cli_client) == cpu_reference",
        "assert ray.get(refs) == cpu_reference",
        "assert actor_mean == sum(cpu_reference) / TASKS",
        "assert loo_threads() == loo_reference",
        'assert cli_address.startswith("tcp://127.0.0.1:")',
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_every_cluster_is_shut_down_in_the_lecture(lecture):
    text = "\n".join(source(c) for c in lecture(LECTURE).code_cells)
    for stop in ["cluster.stop_cluster_sync()", "local_cluster.close()", "cli_client.shutdown()",
                 "ray.shutdown()", "cli_folder.cleanup()"]:
        assert stop in text, stop
    for line in text.splitlines():
        if "ProcessPoolExecutor(" in line and "import" not in line:
            assert line.strip().startswith("with "), line


def test_no_output_shows_a_port(lecture):
    for cell in lecture(LECTURE).code_cells:
        assert not re.search(r"tcp://[\d.]+:\d+", text_output(cell)), "a random port would change between builds"


def test_timing_cells_are_tagged(lecture):
    """Cells that time with timeit_and_cores print speedups and busy cores, not only durations
    (which tests/test_lectures.py finds): tagged timing, `make check-determinism` skips them."""
    timed = [c for c in lecture(LECTURE).code_cells if "lu.timeit(" in source(c) or "timeit_and_cores(" in source(c)]
    timed = [c for c in timed if "def timeit_and_cores" not in source(c)]
    assert len(timed) >= 8
    for cell in timed:
        assert "timing" in tags(cell), source(cell)[:200]
