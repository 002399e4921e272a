"""The implicit-threads lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records. These tests check
the relations the prose states between measured values, never speed targets.
"""

import pytest

LECTURE = "implicit_threads"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def test_checks_ran(lecture):
    for name in ["numexpr-not-listed", "start-up"]:
        lecture(LECTURE).checked(name)


def test_numpy_blas_is_named_with_its_version(values):
    # "NumPy's BLAS here is openblas 0.3.31..., with N threads on a machine with N cores."
    assert values["blas-library"].split()[0] in {"openblas", "mkl", "blis", "accelerate"}
    assert 1 <= values["blas-threads"] <= values["cores"]


def test_blas_threads_spin_after_a_call_and_settle_after_the_pause(values):
    # "Right after the product, with the main thread asleep, the process kept X cores busy:
    # the BLAS threads spinning. 0.3 s later it kept Y."
    assert values["spin-right-after"] > 0.5
    assert values["spin-after-pause"] < 0.2


def test_np_cos_runs_on_the_calling_thread(values):
    # "np.cos showed no measurable difference ... the BLAS limit cannot change it, ... it runs
    # on the calling thread"
    assert values["cos-threads-verdict"]["verdict"] == "no measurable difference", values["cos-threads"]
    assert values["cos-busy-default"] < 1.2 and values["cos-busy-one"] < 1.2


def test_one_thread_limits_keep_one_core_busy(values):
    for name in ["matmul", "cholesky", "numexpr"]:
        assert values[f"{name}-busy-one"] < 1.2, name


def test_threaded_calls_keep_more_cores_busy_where_there_are_cores(values):
    if values["cores"] == 1:
        pytest.skip("one core: no thread can add a busy core")
    # The page reads the default busy cores beside the speed ratio: threads that ran show up.
    for name in ["matmul", "numexpr"]:
        assert values[f"{name}-busy-default"] > values[f"{name}-busy-one"] + 0.2, name


def test_oversubscription_counts(values):
    assert values["workers"] == values["cores"]
    assert values["threads-in-all"] == values["workers"] * values["worker-threads"]
    for name in ["oversubscribed", "one-process"]:
        assert values[f"{name}-verdict"]["baseline"] == "the pool with one BLAS thread per worker"
    # "the same products cost X CPU seconds ... against Y with one thread per worker (Z % more)"
    assert values["cpu-oversubscribed"] > values["cpu-fixed"] > 0


def test_one_core_allowed_tells_openblas_from_numexpr(values):
    # "OpenBLAS counts the cores the process may use, while numexpr counts the CPUs of the machine"
    if isinstance(values["one-core-blas"], str):
        pytest.skip("no CPU affinity on the build machine")
    assert values["one-core-blas"] == 1
    assert values["one-core-numexpr"] == min(values["cpu-count"], 16)


def test_each_limit_acts_on_its_own_pool_only(values):
    # The exercise: "Each tool controls only its own pool."
    assert values["ex-matmul-blas-verdict"]["verdict"] == "slower", values["ex-matmul-blas"]
    assert values["ex-numexpr-numexpr-verdict"]["verdict"] == "slower", values["ex-numexpr-numexpr"]
    assert values["ex-matmul-busy-blas"] < 1.2 and values["ex-numexpr-busy-numexpr"] < 1.2
    if values["cores"] > 1:  # the other library's limit leaves its threads running
        assert values["ex-matmul-busy-numexpr"] > 1.3 and values["ex-numexpr-busy-blas"] > 1.3
    for setting in ["none", "blas", "numexpr"]:
        assert values[f"ex-cos-busy-{setting}"] < 1.2
