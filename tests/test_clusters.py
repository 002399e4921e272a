"""The clusters lecture's own claims: ipyparallel and Dask on one machine.

The shared contract (tests/test_lectures.py) checks that it executed cleanly,
wrote nothing to stderr, and that its verdict sentences agree with their
lu.compare records. These tests check the relations its prose states between
measured values, never speed targets, and that every cluster it started was
shut down. (Deployment on a cluster, Ray and Slurm moved to cluster_deploy:
tests/test_cluster_deploy.py.)
"""

import re

import pytest

from conftest import source, tags, text_output

LECTURE = "clusters"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def test_checks_ran(lecture):
    # The parallel results equal the serial ones; the batch counts, peaks and shutdown were checked.
    for name in ["loo-engines", "batches", "scatter", "peaks", "sklearn-dask", "nothing-left"]:
        lecture(LECTURE).checked(name)


def test_no_process_outlives_the_lecture(lecture, values):
    assert values["children-left"] == 0
    last = lecture(LECTURE).code_cells[-1]
    assert "children_left = len(live_new_children())" in source(last), "the child-process check must be the last cell"
    assert "remove-cell" in tags(last)
    assert "child processes still running: 0" in text_output(last)


def test_every_cluster_and_pool_is_shut_down(lecture):
    text = "\n".join(source(c) for c in lecture(LECTURE).code_cells)
    for stop in ["cluster.stop_cluster_sync()", "rc.close()", "client.close()", "local_cluster.close()",
                 "spawn_pool.shutdown()"]:
        assert stop in text, stop


def test_deployment_moved_to_its_own_lecture(lecture):
    # Part (b) lives in cluster_deploy; this page only points to it.
    text = "\n".join(source(c) for c in lecture(LECTURE).code_cells)
    assert "import ray" not in text and "subprocess" not in text
    assert "{ref}`cluster-deploy`" in lecture(LECTURE).source


def test_parallel_results_were_checked_against_serial(lecture):
    for snippet in [
        "assert lazy_total.compute() == sum(cpu_reference)",
        "assert total_future.result() == sum(cpu_reference)",
        "assert loo_threads() == loo_reference and big_threads() == big_serial()",
        "assert np.isclose(chunked_value, whole_value, rtol=1e-12, atol=0)",
    ]:
        lecture(LECTURE).cell(snippet)
    # lu.compare checks every version against its baseline before timing it (exactly, rtol=0).
    for snippet in ["loo_cmp = lu.compare(", "sched_cmp = lu.compare(", "scatter_cmp = lu.compare(",
                    "sklearn_cmp = lu.compare("]:
        assert "rtol=0" in source(lecture(LECTURE).cell(snippet)), snippet


def test_graph_sizes(values):
    # "The graph holds N tasks: TASKS Collatz tasks and the sum that needs them."
    assert values["graph-size"] == values["tasks"] + 1
    # "per chunk, generate it, square it and take its partial sum ...; then combine in a tree"
    assert values["n-graph"] > 3 * values["n-chunks"] > 3


def test_the_engines_and_workers_are_two(values):
    assert values["workers"] == 2


def test_noise_floor_is_an_interval_around_the_synchronous_ratio(values):
    # Given as numbers (ratio and 95 % interval), never as a verdict.
    assert values["floor-low"] <= values["floor-ratio"] <= values["floor-high"]
    assert "sched-synchronous" not in values


def test_scheduler_verdicts_are_against_the_stated_baselines(values):
    for key in ["threads", "processes", "distributed"]:
        assert values[f"sched-{key}-verdict"]["baseline"] == "the plain loop", key
    assert values["sched-chunk-one-verdict"]["baseline"] == "processes on a kept pool"
    assert values["sched-chunk-one-verdict"]["version"] == "processes on a kept pool, chunksize=1"
    assert values["ipp-direct-verdict"]["baseline"] == "the serial loop"
    assert values["ex-large-verdict"]["baseline"] == "the serial loop of large fits"
    # Ratios near a threshold are given as numbers with their interval, never as verdict words.
    for key in ["sched-kept", "ex-small"]:
        assert f"{key}-verdict" not in values and key not in values
        assert values[f"{key}-low"] <= values[f"{key}-ratio"] <= values[f"{key}-high"]


def test_threads_run_pure_python_one_at_a_time(values):
    # "Collatz tasks hold the GIL, so one thread computes at a time, as the busy cores show."
    assert values["busy-threads"] < 1.3
    assert values["sched-threads-verdict"]["verdict"] != "faster"
    # The exercise: small fits give "no gain from the second thread"; the large fits' busy cores
    # exceed the small fits' (the compiled tree building runs outside the GIL).
    assert values["ex-small-ratio"] < 1.05
    assert values["ex-busy-small-threads"] < 1.3


def test_batches_of_six_bound_the_kept_pool(values):
    # "its batches bound it at 8/6 of the loop's speed" (one worker ran 6 of the 8 tasks)
    assert values["tasks"] == 8
    assert values["sched-kept-ratio"] < 1.5


def test_a_new_pool_per_call_costs_time(values):
    # "The process scheduler as it comes ... since every call starts and stops interpreters":
    # the kept pool runs the same batches without the start-up.
    assert values["sched-processes-ratio"] < values["sched-kept-ratio"]


def test_scatter_sends_the_array_once(values):
    assert values["scatter-verdict"]["baseline"] == "sending the array with each task"
    assert values["scatter-verdict"]["verdict"] == "faster", values["scatter"]


def test_per_task_overhead_is_small_next_to_a_collatz_task(values):
    # "overhead of that size is a small share of tasks of tens of milliseconds"
    for key in ["task-ipp-s", "task-dask-s"]:
        assert 0 < values[key] < 0.2 * values["collatz-task-s"], key


def test_chunked_peak_memory_depends_on_the_chunk_not_the_array(values):
    # "the whole array at X, about twice the array: the array and its squares were alive together"
    assert values["peak-whole-b"] > 1.5 * values["array-b"]
    # "The chunked reduction peaked at ..., the size of a few chunks"
    assert values["peak-chunked-b"] < 0.25 * values["array-b"]
    assert values["peak-chunked-b"] <= 4 * values["chunk-b"]


def test_figure_is_glued(values):
    assert values["fig-dask-schedulers"].startswith("<Figure")


def test_no_output_shows_a_port(lecture):
    for cell in lecture(LECTURE).code_cells:
        assert not re.search(r"tcp://[\d.]+:\d+", text_output(cell)), "a random port would change between builds"


def test_timing_cells_are_tagged(lecture):
    timed = [c for c in lecture(LECTURE).code_cells if "lu.timeit(" in source(c) or "lu.compare(" in source(c)]
    assert len(timed) >= 7
    for cell in timed:
        assert "timing" in tags(cell), source(cell)[:200]


def test_the_joblib_route_reproduces_the_serial_run_and_costs_cpu(values):
    # "The predictions match the serial ones exactly" (checked), and "whatever the route adds per
    # fold is paid in CPU time, on top of the fits".
    assert values["checked-sklearn-dask"] is True
    assert values["sklearn-cpu-dask"] > values["sklearn-cpu-serial"] > 0
