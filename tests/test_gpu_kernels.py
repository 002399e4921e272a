"""The GPU kernels lecture's own claims: what its prose says about its kernels and checks.

The shared contract (tests/test_lectures.py) checks that it executed cleanly. The
page runs its Numba kernels in the CUDA simulator when the build has no GPU, and
its CuPy kernels only on a GPU; these tests check the relations the prose states
(types, launch arithmetic, coverage, one number copied back, memory segments, the
bug in the exercise), never speed.
"""

import pytest
from conftest import tags, text_output
from test_lectures import DURATION

LECTURE = "gpu_kernels"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def shape(text):
    """'16 x 4' -> (16, 4)"""
    return tuple(int(part) for part in text.split(" x "))


def test_checks_ran(lecture):
    # Each hidden check compares a kernel's answer with NumPy's (or reads Numba's source) before
    # the prose reports it.
    for name in ["float32-types", "map-kernel", "out-of-bounds", "cuda-reduce", "fused-kernel",
                 "launch-independent", "coverage", "max-kernel", "ex-segments", "ex-reset-bug",
                 "no-recorded-kernel-timings"]:
        lecture(LECTURE).checked(name)


def test_the_kernel_computes_in_float32_and_the_int_literal_does_not(values):
    # "f stays in float32 (...); with the integer literal the result is float64 (...)"
    assert values["signature-f"] == "(float32, float32) -> float32"
    assert values["signature-int-literal"] == "(float32, float32) -> float64"


def test_blocks_are_whole_warps_and_a_power_of_two(values):
    # "a multiple of the warp size, 32" and a tree reduction that halves
    threads = values["threads-per-block"]
    assert shape(values["tile"])[0] * shape(values["tile"])[1] == threads
    assert threads % 32 == 0 and threads & (threads - 1) == 0


def test_the_2d_launch_overhangs_the_grid_and_the_if_keeps_threads_idle(values):
    # "Neither size is a multiple of its tile, so launches overhang the grid";
    # "The launch used B blocks of T threads, M threads for P points: the if kept I of them idle"
    n, tile, blocks = values["n"], shape(values["tile"]), shape(values["map-blocks"])
    assert n % tile[0] and n % tile[1]
    assert values["points"] == n * n
    assert values["map-threads"] == blocks[0] * blocks[1] * values["threads-per-block"]
    assert values["map-idle-threads"] == values["map-threads"] - values["points"] > 0
    for axis in (0, 1):  # no more blocks per axis than covering needs
        assert 0 < blocks[axis] * tile[axis] - n < tile[axis]


def test_the_fused_kernel_strides_unevenly_and_copies_one_number_back(values):
    # "the call made A atomic updates, copied 4 bytes back"; "the threads took between MIN and MAX
    # points each: X threads do not divide P points evenly"
    count = values["fused-block-count"]
    assert shape(values["fused-blocks"])[0] * shape(values["fused-blocks"])[1] == count
    assert values["fused-threads"] == count * values["threads-per-block"]
    assert values["fused-threads"] < values["points"], "the grid-stride loops were not exercised"
    assert values["atomics-per-call"] == count
    assert values["bytes-back"] == 4
    low, high = values["points-per-thread-min"], values["points-per-thread-max"]
    assert 0 < low < high
    assert low * values["fused-threads"] <= values["points"] <= high * values["fused-threads"]


def test_the_coverage_cell_shows_every_point_visited_once(lecture):
    # "Every point was visited once"
    output = text_output(lecture(LECTURE).cell("count_visits[FUSED_BLOCKS, TILE]"))
    assert "'points visited exactly once': True" in output


def test_cuda_reduce_is_described_from_its_source_and_where_it_ran(values):
    # "launches at most 64 blocks of 128 threads"; "On this build it ran in the simulator, which
    # replaces it by Python's functools.reduce" (or: "ran its kernels on the GPU")
    assert values["reduce-block-threads"] % 32 == 0 and values["reduce-max-blocks"] > 1
    if "simulator" in values["where-sentence"]:
        assert "functools.reduce" in values["reduce-where"]
    else:
        assert values["reduce-where"] == "On this build it ran its kernels on the GPU."


def test_the_map_then_reduce_traffic_is_the_full_size_float32_array(values):
    # "for the running example's 2000 x 2000 grid, the map writes 15.3 MiB"
    assert values["full-n-values-bytes"] == "15.3 MiB"


def test_x_on_columns_touches_fewer_memory_segments(values):
    # Exercise 1: "touch S1 segments with x on the columns and S2 with x on the rows"; at N = 2000
    # with 32 x 8 tiles, "the warp's 128 bytes, nothing wasted" and one segment per thread.
    assert values["segments-columns"] < values["segments-rows"]
    assert values["segments-full-columns"] == 128 // 32
    assert values["segments-full-rows"] == 32


def test_the_admonition_says_where_the_kernels_ran(values):
    sentence = values["where-sentence"]
    assert sentence == "The Numba kernels ran on this build's GPU." or (
        "simulator" in sentence and f"{values['n']} x {values['n']}" in sentence)
    if values["cupy-source-compiled"]:
        assert values["cupy-source-check"].startswith("compiled as C++")
    else:
        assert values["cupy-source-check"].startswith("not compiled")


def test_no_simulator_time_is_shown(lecture, values):
    # "the simulator's run times say nothing about a GPU and are not shown either"
    for name, value in values.items():
        assert not (isinstance(value, str) and DURATION.search(value)), (name, value)
    page = lecture(LECTURE)
    comparison = page.cell("gpu_comparison = lu.compare")
    assert "timing" in tags(comparison)
    if "simulator" in values["where-sentence"]:
        assert text_output(comparison).strip() == "Not run: this machine has no GPU."
        assert text_output(page.cell("cupy_fused = float(")).strip() == (
            "CuPy kernels not run: this machine has no GPU with CuPy")
        assert not any(DURATION.search(text_output(c)) for c in page.code_cells)


def test_the_unreset_accumulator_keeps_the_first_answer(values):
    # "the second starts from the first call's answer, S, which is larger than any value of f
    # on [1, 3]^2 (NumPy: T)"
    assert values["ex-reset-stale"] > values["ex-reset-true"] + 0.5
    assert values["ex-reset-stale"] <= 1.0  # the maximum of f, f(0, 0) = 1, bounds the stale value
