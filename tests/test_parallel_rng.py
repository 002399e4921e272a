"""The parallel random numbers lecture executed, its demonstrations showed what the prose says, and its checks ran.

Results that follow from the seeds (estimates, shifts, test statistics) are
deterministic, so they are checked exactly or against fixed bounds. Timings and
the sentences built from them vary from build to build: only their existence and
their agreement with the measured values are checked, never speed targets. What
every lecture must do (run without errors or stderr, ...) is checked in
tests/test_lectures.py.
"""

import math
import re

import pytest

from conftest import source, text_output

LECTURE = "parallel_rng"

FLOATS = [
    "pi-one-task", "se-task", "se-total", "same-seed-estimate", "philox-diff", "philox-expected-diff",
    "overlap-lecture", "overlap-big", "shared-speedup", "own-speedup", "shared-busy", "own-busy",
    "jump-fraction", "jump-over-2-127", "jump-min-gap", "jump-max-gap", "jump-even-gap", "jump-min-draws",
    "philox-keyed-max-corr", "pi-serial", "pi-serial-se", "workers-spread", "workers-spread-se",
    "corr-max", "corr-scale", "chi2-stat-spawn", "chi2-stat-same", "chi2-stat-philox", "chi2-p-spawn",
    "chi2-p-same", "chi2-p-philox", "numba-matched-fraction", "pregenerated-mib", "pi-counter",
    "pi-counter-se", "overlap-splitmix", "counter-speedup", "jax-reused", "jax-reused-limit", "pi-jax",
    "pi-jax-se",
]
SENTENCES = ["shared-order-sentence", "thread-sentence", "pool-sentence", "numba-sentence", "counter-sentence"]
WORKERS = [1, 2, 4]

def standard_errors_from_pi(values, name):
    return abs(values[name] - math.pi) / values["se-total"]


def test_numbers_exist_and_are_finite(lecture):
    values = lecture(LECTURE).glued
    for name in FLOATS:
        value = values[name]
        assert isinstance(value, float) and math.isfinite(value), (name, value)
    for name in SENTENCES:
        assert isinstance(values[name], str) and len(values[name]) > 20, name
    for name in ["fig-same-seed", "fig-threads"]:
        assert values[name].startswith("<Figure"), name
    assert values["cores"] >= 1 and values["threads"] >= 2 and values["numba-threads"] >= 1


def test_running_example_sizes_and_errors(lecture):
    values = lecture(LECTURE).glued
    tasks = values["tasks"]
    samples = int(values["samples-per-task"].replace(",", ""))
    assert int(values["total-samples"].replace(",", "")) == tasks * samples
    assert values["last-task"] == tasks - 1
    p = math.pi / 4
    assert values["se-task"] == pytest.approx(4 * math.sqrt(p * (1 - p) / samples))
    assert values["se-total"] == pytest.approx(values["se-task"] / math.sqrt(tasks))


def test_same_seed_gives_identical_samples(lecture):
    values = lecture(LECTURE).glued
    assert values["same-seed-distinct"] == 1
    assert values["same-seed-estimate"] == values["pi-one-task"]   # every worker repeats the first
    assert values["own-stream-distinct"] == 4


def test_nearby_seeds_and_overlap(lecture):
    values = lecture(LECTURE).glued
    assert 32 <= values["seed-bits-differ"] <= 96                    # SeedSequence mixes nearby seeds
    assert values["philox-shift"] == 4                                # one counter step: four 64-bit outputs
    assert values["philox-diff"] < values["philox-expected-diff"] / 10
    samples = int(values["samples-per-task"].replace(",", ""))
    assert values["overlap-lecture"] == pytest.approx(values["tasks"] ** 2 * 2 * samples / 2.0**128)
    assert values["overlap-splitmix"] == pytest.approx(values["tasks"] ** 2 * 2 * samples / 2.0**64)
    assert values["overlap-big"] < 1e-12


def test_shared_generator_wording_follows_measurements(lecture):
    values = lecture(LECTURE).glued
    assert values["lock-type"] in {"RLock", "lock", "Lock"}
    runs, same = values["shared-runs"], values["shared-same-runs"]
    assert 0 <= same <= runs
    assert ("In all" in values["shared-order-sentence"]) == (same == runs)
    sentence, busy_shared, busy_own = values["thread-sentence"], values["shared-busy"], values["own-busy"]
    assert busy_shared > 0 and busy_own > 0
    assert ("took turns at the lock" in sentence) == (busy_own >= 1.3 and busy_shared < 1.3)
    assert ("cannot show what the lock costs" in sentence) == (busy_own < 1.3)
    assert f"{busy_own:.2f}" in sentence


def test_fork_copies_the_generator(lecture):
    values = lecture(LECTURE).glued
    assert values["fork-inherited-distinct"] == 1
    assert values["fork-own-distinct"] == 4
    out = text_output(lecture(LECTURE).cell("inherited = run_children(draw_inherited"))
    inherited = re.findall(r"inherited generator: (\[.*\])", out)
    parent = re.findall(r"next three draws:\s+(\[.*\])", out)
    own = re.findall(r"own stream:\s+(\[.*\])", out)
    assert len(inherited) == 4 and len(set(inherited)) == 1 and parent == inherited[:1]
    assert len(own) == 4 and len(set(own)) == 4


def test_pcg64_jump_size(lecture):
    values = lecture(LECTURE).glued
    golden = (math.sqrt(5) - 1) / 2
    assert values["jump-fraction"] == pytest.approx(golden, rel=1e-12)
    assert values["jump-over-2-127"] == pytest.approx(2 * golden, rel=1e-12)
    assert values["jump-min-gap"] < values["jump-even-gap"] < values["jump-max-gap"]
    assert values["jump-even-gap"] == pytest.approx(1 / values["tasks"])
    assert values["jump-min-draws"] == pytest.approx(values["jump-min-gap"] * 2.0**128)


def test_results_do_not_depend_on_the_number_of_workers(lecture):
    values = lecture(LECTURE).glued
    assert values["tasks-identical"] is True
    for w in WORKERS:
        assert values[f"pi-tasks-{w}"] == values["pi-serial"], w       # bit for bit
    per_worker = [values[f"pi-workers-{w}"] for w in WORKERS]
    assert len(set(per_worker)) == len(WORKERS)                          # changes with the worker count
    assert values["workers-spread"] == pytest.approx(max(per_worker) - min(per_worker))
    assert values["workers-spread-se"] == pytest.approx(values["workers-spread"] / values["se-total"])
    for name in ["pi-serial", "pi-counter", "pi-jax"] + [f"pi-workers-{w}" for w in WORKERS]:
        assert standard_errors_from_pi(values, name) < 5, name
    for w in WORKERS:
        assert math.isfinite(values[f"pool-speedup-{w}"]) and values[f"pool-speedup-{w}"] > 0
    assert values["serial-loop-time"].split()[-1] in {"s", "ms", "µs", "ns"}
    assert f"Against the serial loop ({values['serial-loop-time']})" in values["pool-sentence"]


def test_independence_checks(lecture):
    values = lecture(LECTURE).glued
    assert values["corr-scale"] == pytest.approx(1 / math.sqrt(int(values["check-draws"].replace(",", ""))))
    assert 0 < values["corr-max"] < 5 * values["corr-scale"]
    assert 0 < values["philox-keyed-max-corr"] < 5 * values["corr-scale"]
    assert values["corr-pairs"] == values["tasks"] * (values["tasks"] - 1) // 2
    assert values["bins-squared"] == values["bins"] ** 2 and values["chi2-df"] == values["bins"] ** 2 - 1
    assert values["chi2-p-spawn"] > 0.01 and values["chi2-p-philox"] > 0.01   # what the prose says
    assert values["chi2-p-same"] < 1e-12
    assert values["chi2-stat-same"] > 100 * values["chi2-df"]


def test_numba_per_thread_state_wording(lecture):
    values = lecture(LECTURE).glued
    fraction, threads, sentence = values["numba-matched-fraction"], values["numba-threads"], values["numba-sentence"]
    assert 0 <= fraction <= 1
    if threads == 1:
        assert "one thread" in sentence
    elif fraction < 1:
        assert f"{100 * fraction:.0f} %" in sentence
    assert values["pregenerated-mib"] == pytest.approx(
        values["tasks"] * int(values["samples-per-task"].replace(",", "")) * 2 * 8 / 2**20)
    assert ("times as fast" in values["counter-sentence"]) == (values["counter-speedup"] > 1)


def test_jax_keys(lecture):
    values = lecture(LECTURE).glued
    assert values["jax-dtype"] == "float32"
    assert values["jax-reused-limit"] == pytest.approx(4 / math.sqrt(2))
    assert abs(values["jax-reused"] - values["jax-reused-limit"]) < 0.01     # all points on the diagonal
    assert values["jax-devices"] >= 1
    assert values["jax-partitionable"] in {"on", "off"}


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results and demonstrations are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "assert len(set(same_seed)) == 1",
        "assert all(np.array_equal(d, parent_next) for d in inherited)",
        "assert np.array_equal(out, parallel_own)",
        "assert jumped.state == np.random.PCG64(SEED).advance(k * JUMP % PERIOD).state",
        "assert offset == 4 * m",
        "assert pi_by_tasks(w) == pi_serial",
        "assert len(set(per_worker.values())) == len(WORKER_COUNTS)",
        "assert max_corr < 5 * corr_scale",
        'assert tests["same seed"].pvalue < 1e-12',
        "assert pi_pregenerated() == pi_serial",
        "assert np.array_equal(count_inside_counter(task_keys, SAMPLES_PER_TASK), reference_counts)",
        "assert np.array_equal(points_sharded, points_vmap)",
        "assert np.array_equal(whole, whole_sharded)",
        "assert all(value == pi_serial for value in grouped.values())",
        "assert np.argmax(overlapping) == 4",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_same_seed_demo_printed_identical_estimates(lecture):
    out = text_output(lecture(LECTURE).cell("same_seed = [pi_estimate("))
    same = re.search(r"same seed:\s+\[(.*)\]", out).group(1).split(", ")
    own = re.search(r"own streams:\s+\[(.*)\]", out).group(1).split(", ")
    assert len(same) == 4 and len(set(same)) == 1
    assert len(own) == 4 and len(set(own)) == 4


def test_process_pools_are_shut_down_by_with_blocks(lecture):
    pools = [c for c in lecture(LECTURE).code_cells
             if "ProcessPoolExecutor(" in source(c) or "ThreadPoolExecutor(" in source(c)]
    assert pools
    for cell in pools:
        for line in source(cell).splitlines():
            if "PoolExecutor(" in line and "import" not in line:
                assert line.strip().startswith("with "), line
