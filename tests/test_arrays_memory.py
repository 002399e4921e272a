"""The arrays-and-memory lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly and
that its verdict sentences agree with their lu.compare records. These tests check
the relations the prose states between measured values, never speed targets.
"""

import pytest

LECTURE = "arrays_memory"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def verdict(values, name):
    return values[f"{name}-verdict"]


def test_checks_ran(lecture):
    for name in ["full-arrays", "cos32", "cos-each", "chunked-memory"]:
        lecture(LECTURE).checked(name)


def test_figures_exist(values):
    for name in ["fig-remedies", "fig-chunk-sweep"]:
        assert values[name].startswith("<Figure"), name


def test_arrays_beat_the_python_loop(values):
    for name in ["broadcast-vs-loop", "meshgrid-vs-loop"]:
        assert verdict(values, name)["verdict"] == "faster", values[name]


def test_broadcasting_beats_meshgrid_and_writes_half_the_full_arrays(values):
    # "Broadcasting ran ... as fast as meshgrid. To see why, list the arrays each version writes."
    assert verdict(values, "broadcast-vs-mesh")["verdict"] == "faster", values["broadcast-vs-mesh"]
    assert (values["mesh-full-arrays"], values["bcast-full-arrays"]) == (8, 4)


def test_peak_memory_is_below_the_arrays_written(values):
    # "NumPy frees each temporary as soon as the next step has used it, so the peak is below the count"
    assert values["peak-bcast-arrays"] < values["peak-mesh-arrays"]
    assert values["peak-mesh-arrays"] < values["mesh-full-arrays"]
    assert values["peak-bcast-arrays"] < values["bcast-full-arrays"]


def test_fresh_arrays_fault_and_reused_ones_do_not(values):
    assert values["faults-mesh"] > values["faults-bcast"] > 0
    # "In place: ... took N page faults per call, against M for broadcasting ... So its saving is
    # what the faults cost"; the chunked version reuses its buffers too, so only the cache differs.
    assert values["faults-in-place"] <= 2 < values["faults-bcast"]
    assert values["faults-chunked"] <= 2


def test_chunked_against_in_place_is_a_verdict_between_the_two(values):
    record = values["chunked-vs-in-place-verdict"]
    assert (record["version"], record["baseline"]) == ("in place, chunks of 32 rows", "in place, out=")


def test_the_cosine_share_bounds_the_float64_remedies(values):
    assert values["cos-share-low"] <= values["cos-share"] <= values["cos-share-high"] < 100
    assert values["remedy-bound"] > 1
    # "it can make the version at most about X times as fast": no float64 remedy beat the bound
    # (10 % allowed for the noise between two separate comparisons).
    for name in ["in-place", "chunked", "numexpr"]:
        assert values[f"{name}-ratio"] <= 1.1 * values["remedy-bound-high"], (name, values[name])


def test_traffic_estimate_is_consistent(values):
    assert values["passes"] == 7
    assert values["working-set-vs-cache"] in {"larger than", "within"}
    assert values["traffic-share-of-rest"] > 0


def test_numexpr_writes_only_its_result_and_uses_the_c_cosine(values):
    # "It held X full arrays at its peak, its result"
    assert 0.9 <= values["peak-numexpr-arrays"] <= 1.5
    # "this build of numexpr does not use Intel's VML"
    assert values["numexpr-vml"] == "False"


def test_only_a_cheaper_cosine_made_a_large_difference(values):
    assert verdict(values, "float32")["verdict"] == "faster"
    assert verdict(values, "cos32")["verdict"] == "faster"
    # "Here the cosine did, so only a cheaper cosine made a large difference"
    assert values["float32-ratio"] > max(values[f"{name}-ratio"] for name in ["in-place", "chunked", "numexpr"])
    assert values["float32-rel-diff"] < 1e-6


def test_chunk_sweep_has_its_best_in_between(values):
    # "Very small chunks lose again", and the whole grid as one chunk is slower than the best.
    assert values["sweep-best-rows"] not in (1, values["grid-n"])
    assert values["sweep-best-fits"].startswith("fits in")
    # "every size from A to B rows came within 5 % of it"
    assert values["sweep-near-low"] <= values["sweep-best-rows"] <= values["sweep-near-high"]


def test_numexpr_squares_every_point(values):
    # "numexpr's sum of squares took ... as long as NumPy's: the price of computing per point"
    assert values["numexpr-squares-verdict"]["verdict"] == "slower", values["numexpr-squares"]


def test_tiny_calls_cost_more_through_numpy(values):
    assert verdict(values, "np-each-vs-math")["verdict"] == "slower"
    assert verdict(values, "np-whole-vs-math")["verdict"] == "faster"


def test_cheap_expression_gains_more_from_the_memory_remedies(values):
    # "the less arithmetic per element, the larger the share of the temporaries, and the more
    # their remedies can give"
    assert values["cheap-in-place-ratio"] > values["in-place-ratio"]
    assert values["cheap-chunked-ratio"] > values["chunked-ratio"]


def test_float32_exercise(values):
    assert values["ex-same-argmax"] in {"the same point", "different points"}
    # "The float64 maximum is reached at 4 grid points: ... exact ties"; "The next largest value lies
    # N float32 gaps below the maximum, so float32 separates it easily."
    assert values["ex-ties"] == 4
    assert values["ex-next-gaps"] > 10
    assert values["ex-rel-diff"] < 1e-6
