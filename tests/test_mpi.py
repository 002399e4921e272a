"""The MPI lecture's own claims: what its prose says about its MPI programs and their measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.from_rounds records. These tests
check the relations the prose states between measured values, never speed targets.
"""

import pytest

LECTURE = "mpi"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def test_checks_ran(lecture):
    for name in [
        "eager",
        "ring",
        "collectives",
        "mc-identical",
        "heat-serial",
        "futures",
        "ex-allreduce",
        "ex-deadlock",
        "ranks",
        "no-processes",
    ]:
        lecture(LECTURE).checked(name)


def test_every_program_ran_with_the_ranks_it_was_started_with(values):
    runs = values["mpi-runs"]
    for run in runs:
        assert run["reported"] in (run["ranks"], None), run
    # Only the two deadlocks were stopped by their timeout, on purpose.
    assert [(r["program"], r["ranks"]) for r in runs if r["reported"] is None] == [
        ("ring.py", values["timing-ranks"]),
        ("allgather_by_hand.py", 3),
    ]
    # The rank counts the prose states for each program: hello, the ring fixes and the collectives
    # with 4; the overlap probe with 2; Monte Carlo, the solver's check and the exercise's Allreduce
    # with 1, 2 and 4; the futures pools as 3 ranks (script + 2 workers) and as 1 rank that spawns 2;
    # the hand-made all-gather with 3.
    assert {(r["program"], r["ranks"]) for r in runs} == {
        ("hello.py", 4),
        ("waiting.py", 2),
        ("pingpong.py", 2),
        ("ring.py", 2),
        ("ring.py", 4),
        ("overlap.py", 2),
        ("collectives.py", 4),
        ("pi_mpi.py", 1),
        ("pi_mpi.py", 2),
        ("pi_mpi.py", 4),
        ("heat.py", 1),
        ("heat.py", 2),
        ("heat.py", 4),
        ("pi_futures.py", 3),
        ("pi_futures.py", 1),
        ("standardise.py", 1),
        ("standardise.py", 2),
        ("standardise.py", 4),
        ("allgather_by_hand.py", 3),
        ("allgather_fixed.py", 3),
    }
    # Strong scaling: every round launched, on each of the two grids, the serial solver (1 rank,
    # --no-halo), the 1-rank solver and 2 ranks; before that, the checks: 1, 2 and 4 ranks, and
    # --no-halo on 1 rank (the serial solver) and on 2 (the broken exchange).
    heat = [r["ranks"] for r in runs if r["program"] == "heat.py"]
    assert heat.count(1) == 2 + 2 * 2 * values["scaling-rounds"]
    assert heat.count(2) == 2 + 2 * values["scaling-rounds"]
    assert heat.count(4) == 1
    assert [r["ranks"] for r in runs if r["program"] == "ring.py"] == [2, 2, 4, 4, 4]


def test_timings_use_one_rank_per_core(values):
    # "Every timing on this page therefore uses at most 2 ranks, one per core; 4 ranks appear only
    # to show that results are right."
    assert values["timing-ranks"] == 2 <= values["cores"]
    timed = {"waiting.py", "pingpong.py", "overlap.py"}
    assert {r["ranks"] for r in values["mpi-runs"] if r["program"] in timed} == {values["timing-ranks"]}
    # The solver's only run on more than 2 ranks is the 4-rank check.
    assert [r["ranks"] for r in values["mpi-runs"] if r["program"] == "heat.py" and r["ranks"] > 2] == [4]


def test_a_waiting_rank_polls_and_a_sleeping_one_does_not(values):
    # "The rank waiting in Recv used X CPU seconds per second, the sleeping one Y: a waiting MPICH
    # rank polls, keeping its core busy."
    assert values["busy-receiving"] > 0.5
    assert values["busy-sleeping"] < 0.2
    assert values["busy-receiving"] > 10 * values["busy-sleeping"]


def test_deadlock_messages_lie_on_either_side_of_the_eager_limit(values):
    # "up to X, Send returned at once; from Y on, it waited"; the 1 MiB ring deadlocks, the 1 KiB one does not.
    assert values["eager-largest-bytes"] < values["eager-smallest-waiting-bytes"]
    assert values["small-floats"] * 8 <= values["eager-largest-bytes"]
    assert values["eager-smallest-waiting-bytes"] <= values["ring-message-bytes"]


def test_pickled_messages_cost_more_at_every_size(values):
    # "lower-case methods for small control messages ..., capitalised ones for arrays"; the summary:
    # "what the lower-case ones cost extra".
    for size in ["small", "medium", "large"]:
        record = values[f"ping-{size}-verdict"]
        assert record["baseline"] == "the buffer round trip" and record["version"] == "the pickled round trip"
        assert record["verdict"] == "slower", values[f"ping-{size}"]


def test_pickling_is_most_of_the_extra_but_no_exact_account(values):
    # "pickling alone came to between LOW and HIGH % of the extra, depending on the size: most of it,
    # but not an exact account"; the summary: "Pickling was most of what the lower-case ones cost extra".
    shares = [values[f"ping-{size}-share"] for size in ["small", "medium", "large"]]
    assert values["ping-share-low"] == min(shares) and values["ping-share-high"] == max(shares)
    assert 50 < values["ping-share-low"] <= values["ping-share-high"] < 200


def test_pickling_a_small_message_is_a_cost_per_object(values):
    # "For the smallest message it is a cost per object, not per byte: X, where copying the bytes at
    # the rate of the largest message would take Y."
    assert values["ping-small-pickling-s"] > 5 * values["ping-small-copy-s"]


def test_a_nonblocking_transfer_moves_only_while_mpi_is_called(values):
    # "After work without MPI calls, Waitall still took A, against B with no work at all: the message
    # ... had waited for the Waitall. With Testall in the loop, Waitall took C: the transfer happened
    # inside those calls, which took D in all, about what Waitall took with no work ... Testall moved it into
    # the loop rather than hiding it."
    nowork = values["overlap-nowork-s"]
    assert values["overlap-plain-s"] > 0.5 * nowork
    assert values["overlap-test-s"] < 0.05 * nowork
    assert 0.4 * nowork < values["overlap-testall-s"] < 2.5 * nowork
    # The message is above the eager limit measured on the page.
    assert values["eager-smallest-waiting-bytes"] <= values["overlap-message-bytes"]


def test_monte_carlo_is_identical_for_1_2_and_4_ranks(values):
    assert values["mc-hits-1"] == values["mc-hits-2"] == values["mc-hits-4"] == values["mc-hits-serial"]
    assert abs(values["mc-pi"] - 3.14159) < 0.01


def test_decomposed_solver_matches_the_serial_one(values):
    # "agrees with the serial solver to a relative tolerance of 1e-12"; |u| <= 1.5 (max principle).
    for ranks in (1, 2, 4):
        assert values[f"heat-diff-{ranks}"] <= 1.5 * values["heat-rtol"], ranks
    if max(values[f"heat-diff-{ranks}"] for ranks in (1, 2, 4)) == 0:
        assert values["heat-diff-text"].startswith("the largest difference is 0")
    # "Without the halo exchange ... the result is wrong by up to X: the check catches a broken exchange."
    assert values["heat-diff-no-halo"] > 1e6 * values["heat-rtol"]
    # "On 1 rank, with --no-halo, the program is the serial solver itself and gave exactly its result":
    # the strong-scaling baseline.
    assert values["heat-diff-serial-program"] == 0


def test_strong_scaling_records_and_where_the_time_went(values):
    # The verdict on the large grid is against the best serial solver, not the 1-rank MPI program.
    record = values["heat-scaling-large-verdict"]
    assert record["baseline"] == "the serial solver" and record["version"] == "2 ranks"
    # The small grid's ratio is given as numbers, with no verdict words (it sits near the threshold).
    assert "heat-scaling-small-verdict" not in values
    assert "interval" in values["heat-scaling-small-numbers"]
    for grid in ["large", "small"]:
        # "computation per rank fell from A to B"
        assert values[f"heat-{grid}-computation-2-s"] < values[f"heat-{grid}-computation-serial-s"]
    # No speedup above the 2 cores: that would mean a bad baseline.
    assert values["heat-scaling-large-ratio"] <= 2 * 1.05
    # The small grid, same work in ten times the steps: computation "fell only" (less than on the
    # large grid), communication took a larger share, and the ratio was "only" N.
    shrink = {
        g: values[f"heat-{g}-computation-2-s"] / values[f"heat-{g}-computation-serial-s"] for g in ["large", "small"]
    }
    assert shrink["small"] > shrink["large"]
    assert values["heat-small-communication-share"] > values["heat-large-communication-share"]
    assert values["heat-scaling-small-ratio"] < 0.8 * values["heat-scaling-large-ratio"]
    # "Of that, X is what the two Sendrecv calls cost with no partner at all (the 1-rank run) and the
    # remaining Y latency and waiting for the neighbour."
    assert 0 < values["heat-small-communication-1-s"] < values["heat-small-communication-2-s"]
