"""The cluster-deploy lecture's own claims: what its prose says about what it ran.

The shared contract (tests/test_lectures.py) checks that it executed cleanly, wrote
nothing to stderr and showed no local paths. These tests check the relations the
prose states: workers reached, retries counted, thread settings seen inside the
workers, job-array seeds equal to spawned ones, and nothing left running.
"""

import pytest

LECTURE = "cluster_deploy"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def test_checks_ran(lecture):
    for name in ["workers-reached", "cluster-equals-serial", "dask-retry", "worker-blas", "limit-in-worker",
                 "dask-stopped", "job-script", "array-seeds", "ray-retry", "ray-omp", "ex-node",
                 "nothing-left"]:
        lecture(LECTURE).checked(name)


def test_client_waited_for_every_worker(values):
    # "client.wait_for_workers(n) returns once n workers have registered"
    assert values["workers-reached"] == values["workers"] >= 2


def test_dask_retries_ran_the_failing_task_again(values):
    # "The task without retries ran 1 time ...; the task with retries ran 2 times"
    assert values["dask-attempts-no-retry"] == 1
    assert values["dask-attempts-retry"] == 2


def test_ray_retries_exceptions_only_when_asked(values):
    # "With max_retries alone the task ran 1 time ...; with retry_exceptions=True it ran 2 times"
    assert values["ray-attempts-no-exc"] == 1
    assert values["ray-attempts-exc"] == 2


def test_dask_nanny_gives_workers_one_blas_thread(values):
    # "The notebook's BLAS has N threads, one per core; each Dask worker's has one ... sets ... to 1"
    assert values["notebook-blas"] == values["cores"]
    assert values["worker-omp"] == "1"


def test_oversubscription_numbers_are_a_ratio_with_its_interval(values):
    # Given as a number with its 95 % interval, not as a verdict.
    assert values["oversubscribed-threads"] == values["workers"] * values["cores"]
    assert values["over-low"] <= values["over-ratio"] <= values["over-high"]
    assert values["busy-one"] > 0 and values["busy-over"] > 0


def test_job_array_seeds_equal_spawned_children_and_differ(values):
    # "All 8 array tasks drew their seeds from the same state as the children of spawn,
    # their 8 streams all differ"
    assert values["array-same-as-spawn"] == values["tasks"]
    assert values["array-distinct-streams"] == values["tasks"]


def test_exercise_root_plus_id_shares_all_but_one_seed(values):
    # "7 of the 8 seeds are shared"
    assert values["ex-shared-seeds"] == 7


def test_nothing_left_running(values):
    # "Every scheduler, worker, Ray process and array task this page started has exited: 0"
    assert values["children-left"] == 0


def test_no_sleep_in_the_code(lecture):
    # The page teaches waiting for workers instead of sleeping: its code must not sleep either.
    for cell in lecture(LECTURE).code_cells:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        assert "sleep(" not in text, text[:80]
