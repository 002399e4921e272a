"""The GPU kernels lecture's own claims: what its prose says about its kernels and checks.

The shared contract (tests/test_lectures.py) checks that it executed cleanly. The
page runs its Numba kernels in the CUDA simulator when the build has no GPU, and
its CuPy kernels only on a GPU; these tests check the relations the prose states
(types, launch arithmetic, coverage, points per thread per axis, one number copied
back, a visible check against NumPy, the GPU sizing against L2, memory segments, the
bug in the exercise), never speed.
"""

import pytest
from test_lectures import DURATION

from conftest import source, tags, text_output

LECTURE = "gpu_kernels"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def shape(text):
    """'16 x 4' -> (16, 4)"""
    return tuple(int(part) for part in text.split(" x "))


def choices(text):
    """'1 or 2' -> [1, 2]; '7' -> [7]"""
    return [int(part) for part in text.split(" or ")]


def on_gpu(values):
    return "simulator" not in values["where-sentence"]


def test_checks_ran(lecture):
    # Each hidden check compares a kernel's answer with NumPy's (or reads Numba's source) before
    # the prose reports it.
    for name in [
        "float32-types",
        "map-kernel",
        "out-of-bounds",
        "cuda-reduce",
        "fused-kernel",
        "launch-independent",
        "coverage",
        "max-kernel",
        "ex-segments",
        "ex-reset-bug",
        "no-recorded-kernel-timings",
    ]:
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
    # "50 points a side, a multiple of neither side of its 16 x 4 tile"; "On a GPU, N is ... a
    # multiple of the 32 x 8 tile's 8 rows but not of its 32 columns. So launches overhang the grid
    # in x (and in y in the simulator)"; "The launch used B blocks of T threads, M threads for
    # P points: the if kept I of them idle"
    n, tile, blocks = values["n"], shape(values["tile"]), shape(values["map-blocks"])
    assert values["points"] == n * n
    assert values["map-threads"] == blocks[0] * blocks[1] * values["threads-per-block"]
    assert values["map-idle-threads"] == values["map-threads"] - values["points"] > 0
    overhang = [blocks[axis] * tile[axis] - n for axis in (0, 1)]
    assert 0 < overhang[0] < tile[0], "x must overhang, by less than one block"
    if on_gpu(values):
        assert tile == (32, 8) and n >= 2000 and n % 8 == 0 and n % 32
        assert overhang[1] == 0
    else:
        assert tile == (16, 4) and n == 50
        assert 0 < overhang[1] < tile[1]


def test_the_fused_kernel_strides_unevenly_and_copies_one_number_back(values):
    # "the call made A atomic updates, copied 4 bytes back"; "between MIN and MAX points, and the
    # loops' tails were exercised"
    count = values["fused-block-count"]
    assert shape(values["fused-blocks"])[0] * shape(values["fused-blocks"])[1] == count
    assert values["fused-threads"] == count * values["threads-per-block"]
    assert values["fused-threads"] < values["points"], "the grid-stride loops were not exercised"
    assert values["atomics-per-call"] == count
    assert values["bytes-back"] == 4
    low, high = values["points-per-thread-min"], values["points-per-thread-max"]
    assert 0 < low < high
    assert low * values["fused-threads"] <= values["points"] <= high * values["fused-threads"]


def test_the_spread_of_points_per_thread_comes_from_each_axis(values):
    # "The launch is W threads wide and H high, so each thread took C of the n columns and R of
    # the rows: between MIN and MAX points"
    n, width, height = values["n"], values["launch-width"], values["launch-height"]
    blocks, tile = shape(values["fused-blocks"]), shape(values["tile"])
    assert (width, height) == (blocks[0] * tile[0], blocks[1] * tile[1])
    columns, rows = choices(values["columns-per-thread"]), choices(values["rows-per-thread"])
    assert columns == sorted({n // width, -(-n // width)})
    assert rows == sorted({n // height, -(-n // height)})
    assert len(columns) == 2, "x overhangs the launch width: the column counts differ"
    # the counts measured by count_visits are the products of the per-axis counts
    assert values["points-per-thread-min"] == columns[0] * rows[0]
    assert values["points-per-thread-max"] == columns[-1] * rows[-1]


def test_the_compiled_kernels_are_checked_against_numpy_in_a_visible_cell(lecture):
    # "On a GPU, this visible check tests the compiled float32 kernels' maxima against NumPy": the cell
    # must survive into the downloaded notebook, which drops remove-cell and remove-input cells.
    cell = lecture(LECTURE).cell("np.testing.assert_allclose([map_then_reduce, fused, map_then_max]")
    assert not {"remove-cell", "remove-input"} & set(tags(cell))
    assert "reference" in source(cell)


def test_on_a_gpu_the_values_outgrow_l2_and_blocks_fill_the_thread_slots(values):
    # "On a GPU, N is at least 2000, large enough for the values to outgrow the L2 cache";
    # "FUSED_BLOCKS gives each SM as many 256-thread blocks as it has thread slots"
    if not on_gpu(values):
        assert "l2-bytes" not in values and "fused-occupancy" not in values
        return
    assert 4 * values["points"] >= 4 * values["l2-bytes"]
    assert shape(values["fused-blocks"])[0] == values["blocks-per-sm"]
    assert 0 < values["fused-occupancy"] <= 1


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
        "simulator" in sentence and f"{values['n']} x {values['n']}" in sentence
    )
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
            "CuPy kernels not run: this machine has no GPU with CuPy"
        )
        assert not any(DURATION.search(text_output(c)) for c in page.code_cells)


def test_the_unreset_accumulator_keeps_the_first_answer(values):
    # "the second starts from the first call's answer, S, which is larger than any value of f
    # on [1, 3]^2 (NumPy: T)"
    assert values["ex-reset-stale"] > values["ex-reset-true"] + 0.5
    assert values["ex-reset-stale"] <= 1.0  # the maximum of f, f(0, 0) = 1, bounds the stale value
