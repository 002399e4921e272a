"""The parallel random numbers lecture's own claims: what its prose says about its results.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records. Results that
follow from the seeds (estimates, shared streams, test statistics) are
deterministic and are checked exactly or against fixed bounds. Timings vary from
build to build: these tests check the relations the prose states between
measured values (busy cores, verdict records), never speed targets.
"""

import math

import pytest

from conftest import source, text_output

LECTURE = "parallel_rng"
WORKERS = [1, 2, 4]


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def verdict(values, name):
    return values[f"{name}-verdict"]["verdict"]


def samples(values, name="samples-per-task"):
    return int(values[name].replace(",", ""))


def test_checks_ran(lecture):
    for name in [
        "own-generators-reproducible",
        "fork-parent-draws-the-same",
        "spawn",
        "generator-kernel",
        "key-reuse-caught",
        "legacy-keys-not-tracked",
        "fold-in-not-tracked",
        "sharding-independent",
        "partitionable-program",
    ]:
        lecture(LECTURE).checked(name)


def test_running_example_sizes_and_errors(values):
    tasks = values["tasks"]
    assert samples(values, "total-samples") == tasks * samples(values)
    assert values["last-task"] == tasks - 1
    p = math.pi / 4
    assert values["se-task"] == pytest.approx(4 * math.sqrt(p * (1 - p) / samples(values)))
    assert values["se-total"] == pytest.approx(values["se-task"] / math.sqrt(tasks))


def test_state_is_lcg_state_and_increment(lecture):
    # "Its state is two 128-bit numbers: the LCG state s and the increment c"
    shown = text_output(lecture(LECTURE).cell("np.random.default_rng(SEED).bit_generator.state"))
    assert "'state'" in shown and "'inc'" in shown and "PCG64" in shown


def test_same_seed_gives_identical_samples(values):
    # "The four 'independent' estimates are one number ... four times"
    assert values["same-seed-distinct"] == 1
    assert values["same-seed-estimate"] == values["pi-one-task"]
    assert values["own-stream-distinct"] == 4
    assert values["fig-same-seed"].startswith("<Figure")


def test_nearby_seeds_hash_to_unrelated_states(values):
    # "differ in N of their 256 bits ... binomial with mean 128 and standard deviation 8, so this one
    # lies Z standard deviations from the mean: nothing suspicious."
    assert values["seed-bits-z"] == pytest.approx((values["seed-bits-differ"] - 128) / 8)
    assert values["seed-bits-z-abs"] == pytest.approx(abs(values["seed-bits-z"]))
    assert values["seed-bits-z-abs"] < 3


def test_root_plus_id_reuses_streams_across_runs_and_list_seeds_do_not(values):
    # "two runs whose roots differ by one share N of their 16 streams ... share 0 streams"
    assert values["reused-plus"] == values["tasks"] - 1
    assert values["reused-list"] == 0


def test_philox_counters_are_positions(values):
    assert values["philox-shift"] == 4  # one counter step: four 64-bit outputs


def test_overlap_bounds_and_the_58_bit_birthday_estimate(values):
    n = samples(values)
    assert values["overlap-lecture"] == pytest.approx(values["tasks"] ** 2 * 2 * n / 2.0**128)
    assert values["overlap-big"] == pytest.approx((10**6) ** 2 * 2.0**40 / 2.0**128)
    assert values["overlap-splitmix"] == pytest.approx(values["tasks"] ** 2 * 2 * n / 2.0**64)
    # "about n^2 / 2^59, <low-bits-big> for a million streams": far above the idealised bound
    assert values["low-bits-big"] == pytest.approx((10**6) ** 2 / 2.0**59)
    assert values["low-bits-big"] > 1e6 * values["overlap-big"]


def test_shared_generator_takes_turns_and_own_generators_run_side_by_side(values):
    # "kept X cores busy, taking turns at the lock: it lets one thread draw at a time"
    assert 0 < values["shared-busy"] < 1.3
    assert values["shared-low"] <= values["shared-ratio"] <= values["shared-high"]
    # "Sharing gained little or nothing: its speed ratio to one thread was R (95 % interval L to H), far from
    # what threads that work side by side can gain" (a CI build gave 0.97, interval to 1.054: a 5 % bound
    # on "nothing" was tighter than the noise)
    assert values["shared-high"] < 1.25, values["shared-high"]
    assert values["own-vs-one-ratio"] > values["shared-high"] + 0.3, (values["own-vs-one-ratio"], values["shared-high"])
    # the ratio is given as numbers only: its verdict flips between builds, so no verdict of the shared
    # generator against one thread is glued
    assert not any(
        isinstance(v, dict)
        and v.get("kind") == "verdict"
        and "sharing" in v["version"]
        and v["baseline"] == "one thread"
        for v in values.values()
    )
    same, runs, order = values["shared-in-order"], values["shared-runs"], values["shared-order"]
    assert 0 <= same <= runs
    assert ("In none of" in order) == (same == 0) and ("In all" in order) == (same == runs)
    if values["cores"] > 1:
        # "With a generator each they kept Y cores busy and ran ... as fast as one thread"
        assert values["own-busy"] > values["shared-busy"] + 0.3
        assert verdict(values, "own-vs-one") == "faster", values["own-vs-one"]
        assert verdict(values, "own-vs-shared") == "faster", values["own-vs-shared"]


def test_fork_copies_the_generator(values):
    # "All four children drew the same numbers, which are also the parent's next three."
    assert values["fork-inherited-distinct"] == 1
    assert values["fork-own-distinct"] == 4


def test_philox_keyed_streams_look_independent(values):
    assert values["corr-scale"] == pytest.approx(1 / math.sqrt(samples(values, "check-draws")))
    assert 0 < values["philox-keyed-max-corr"] < 5 * values["corr-scale"]


def test_results_do_not_depend_on_the_number_of_workers(values):
    # "With a stream per task, 1, 2 and 4 workers all give <pi-serial>, to the last bit."
    assert values["tasks-identical"] is True
    per_worker = [values[f"pi-workers-{w}"] for w in WORKERS]
    assert len(set(per_worker)) == len(WORKERS)  # changes with the worker count
    assert values["workers-spread-se"] == pytest.approx((max(per_worker) - min(per_worker)) / values["se-total"])
    for estimate in [values["pi-serial"], values["pi-counter"], values["pi-jax"]] + per_worker:
        assert abs(estimate - math.pi) / values["se-total"] < 5


def test_pool_timings(values):
    assert values["kept-pool-verdict"]["baseline"] == "the serial loop"
    assert values["thread-pool-verdict"]["baseline"] == "the serial loop"
    for name in ["pool-start", "kept-pool-time"]:
        assert values[name].split()[-1] in {"s", "ms", "µs"}, values[name]
    if values["cores"] > 1:
        # "The kept-alive pool ran ... as fast as the serial loop, keeping X cores busy"
        assert values["kept-pool-busy"] > 1.3
        assert verdict(values, "kept-pool") == "faster", values["kept-pool"]
        # Exercise 23's solution: "the thread pool ran ..., keeping X cores busy, ...: for work that releases
        # the GIL, threads reach the cores too"
        assert values["thread-pool-busy"] > 1.3
        assert verdict(values, "thread-pool") == "faster", values["thread-pool"]


def test_independence_checks(values):
    assert 0 < values["corr-max"] < 5 * values["corr-scale"]
    assert values["corr-pairs"] == values["tasks"] * (values["tasks"] - 1) // 2
    assert values["bins-squared"] == values["bins"] ** 2 and values["chi2-df"] == values["bins"] ** 2 - 1
    # "The overlapping Philox streams *pass*", the spawned children show nothing, the same seed is caught
    assert values["chi2-p-spawn"] > 0.01 and values["chi2-p-philox"] > 0.01
    assert values["chi2-p-same"] < 1e-12
    assert values["chi2-stat-same"] > 100 * values["chi2-df"]


def test_numba_seeds_one_thread_only(values):
    # "On N threads, P % of the draws equal the serial reference"
    percent = values["numba-matched-percent"]
    assert 0 <= percent <= 100
    if values["numba-threads"] > 1:
        assert percent < 100


def test_generator_kernels_run_at_the_same_time(values):
    # Pattern 2: "On N threads the kernels kept X cores busy, against Y on one, and <verdict>: they drew and
    # counted at the same time" only where the verdict is "faster"; otherwise the page says the second
    # thread did not measurably shorten the time. (A quiet CI build's interval reached down to 1.02.)
    assert values["kernel-threads-verdict"]["baseline"] == "the kernel on one thread"
    if values["cores"] > 1 and values["threads"] > 1:
        assert values["kernel-busy-n"] > values["kernel-busy-1"] + 0.3
    meaning = {"faster": "they drew and counted at the same time",
               "no measurable difference": "in this run the added threads did not measurably shorten the time",
               "slower": "in this run the added threads lengthened the time"}  # fmt: skip
    assert values["kernel-threads-meaning"] == meaning[verdict(values, "kernel-threads")], values["kernel-threads"]


def test_counter_based_speed_is_decomposed(values):
    # Each step changes one thing; the prose reads each verdict, and the threads step with busy cores.
    assert values["gain-generator-verdict"]["baseline"] == "NumPy drawing, then counting"
    assert values["gain-memory-verdict"]["baseline"] == "SplitMix64 drawing, then counting"
    assert values["gain-threads-verdict"]["baseline"] == "SplitMix64 inside the count"
    assert values["gain-total-verdict"]["baseline"] == "NumPy drawing, then counting"
    assert values["numpy-busy-1"] > 0
    assert values["draws-bytes"] == values["pregenerated-bytes"]
    assert verdict(values, "gain-generator") == "faster", values["gain-generator"]
    assert verdict(values, "gain-memory") == "faster", values["gain-memory"]
    assert verdict(values, "gain-total") == "faster", values["gain-total"]
    assert values["fused-busy-1"] < 1.2
    if values["numba-threads"] > 1 and values["cores"] > 1:
        assert values["fused-busy-n"] > values["fused-busy-1"] + 0.3
        assert verdict(values, "gain-threads") == "faster", values["gain-threads"]


def test_jax_keys(values):
    assert values["jax-dtype"] == "float32"
    assert values["jax-reused-limit"] == pytest.approx(4 / math.sqrt(2))
    assert abs(values["jax-reused"] - values["jax-reused-limit"]) < 0.01  # all points on the diagonal
    assert values["jax-devices"] == 2
    assert values["jax-partitionable"] == "on"  # "on by default in this version"
    # "All N are equal": fold_in(root_key, t) is split(root_key, TASKS)[t] for every task
    assert values["fold-in-equals-split"] == values["tasks"]


def test_partitionable_setting_in_the_compiled_program(values):
    # "with the setting on, each device builds u32[8,1000], the bits of its own rows of the 16×1,000 draw ...
    # with it off, each holds u32[16000], the bits of the whole draw"
    rows, devices = values["tasks"], values["jax-devices"]
    assert values["draw-shape"] == f"{rows}×1,000"
    assert values["bits-on"] == f"u32[{rows // devices},1000]"
    assert values["bits-off"] == f"u32[{rows * 1000}]"


def test_grouped_threads_ran_at_the_same_time(values):
    # "Two threads ran ... and kept X cores busy, against Y for one: they ran at the same time."
    assert values["grouped-threads-verdict"]["baseline"] == "one thread"
    if values["cores"] > 1:
        assert values["grouped-busy-2"] > values["grouped-busy-1"] + 0.3
        assert verdict(values, "grouped-threads") == "faster", values["grouped-threads"]


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "assert len(set(same_seed)) == 1",
        'assert reused["root + i"] == TASKS - 1 and reused["[i, root]"] == 0',
        "assert np.array_equal(out, parallel_own)",
        "assert all(np.array_equal(d, parent_next) for d in inherited)",
        "assert all(value == pi_serial for value in by_tasks.values())",
        'assert pool_cmp.timing("a kept-alive pool").result == pi_serial',
        'assert pool_cmp.timing("a thread pool").result == pi_serial',
        'assert tests["same seed"].pvalue < 1e-12',
        "assert pi_pregenerated() == pi_serial",
        "assert pi_generator_kernel(1) == pi_serial and pi_generator_kernel(THREADS) == pi_serial",
        "assert np.array_equal(count_inside_counter(task_keys, SAMPLES_PER_TASK), reference_counts)",
        "assert speed_cmp.timing(LABEL_SPLITMIX).result == speed_cmp.timing(LABEL_FUSED_N).result",
        "assert np.array_equal(whole, sharded)",
        "assert all(same_key)",
        'assert not programs["on"]["all-gather"] and programs["off"]["all-gather"]',
        "assert not any(np.array_equal(k, jax.random.key_data(task_key))",
        "assert not np.array_equal(draws_by_setting[True], draws_by_setting[False])",
        "assert all(pi_grouped(w) == pi_serial for w in WORKER_COUNTS)",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_key_reuse_errors_are_caught_not_shown(lecture):
    # The page shows the error's first line, caught, never a traceback.
    shown = text_output(lecture(LECTURE).cell("pi_reused_key(jax.random.key(SEED), 1_000)"))
    assert "Previously-consumed key" in shown
    walk = text_output(lecture(LECTURE).cell("random_walk(jax.random.key(SEED), 6)"))
    assert walk.startswith("KeyReuseError")


def test_pools_are_shut_down(lecture):
    pools = [c for c in lecture(LECTURE).code_cells if "PoolExecutor(" in source(c)]
    assert pools
    for cell in pools:
        text = source(cell)
        for line in text.splitlines():
            if "PoolExecutor(" in line and "import" not in line:
                assert line.strip().startswith("with ") or (
                    "kept_pool = " in line and "kept_pool.shutdown()" in text
                ), line
