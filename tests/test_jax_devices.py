"""The JAX-across-devices lecture's own claims: what its prose says about its measurements.

The shared contract (tests/test_lectures.py) checks that it executed cleanly, that
timing cells are tagged and that its verdict sentences agree with their lu.compare
records. These tests check the relations the prose states, never speed targets.
"""

import math

import pytest

from conftest import source, text_output

LECTURE = "jax_devices"


@pytest.fixture(scope="module")
def values(lecture):
    return lecture(LECTURE).glued


def test_checks_ran(lecture):
    for name in [
        "pmap-docstring",
        "shards",
        "explicit-default",
        "sharded-max",
        "collectives",
        "memory",
        "xla-partitions",
        "mmap-sizes",
        "mallopt",
        "manual-max",
        "ppermute",
        "fold-in-collides",
    ]:
        lecture(LECTURE).checked(name)


def test_devices_are_configured_before_anything_runs(lecture):
    first = source(lecture(LECTURE).code_cells[0])
    assert 'jax.config.update("jax_num_cpu_devices", 4)' in first
    assert "delete these two lines" in first  # the line a GPU user removes is marked
    assert "jnp." not in first and "lecture_utils" not in first


def test_sizes_follow_the_device_count(lecture, values):
    code = "\n".join(source(c) for c in lecture(LECTURE).code_cells)
    assert "n_devices = jax.device_count()" in code
    assert "assert n_devices ==" not in code  # runs on 1, 2, 4 or 8 devices
    assert values["grid-n"] % values["n-devices"] == 0
    assert values["shard-length"] == values["grid-n"] // values["n-devices"]


def test_collectives(values):
    if values["n-devices"] > 1:
        assert "all-reduce" in values["collectives"].split(", ")


def test_memory_per_device(values):
    # "each of the N devices needs X, R times less" and the Monte Carlo temporaries likewise
    d = values["n-devices"]
    assert values["temp-ratio"] == pytest.approx(d, rel=0.01)
    assert values["mc-temp-ratio"] == pytest.approx(d, rel=0.01)
    # "each of the N devices needs X, 1/R of it" with R the device count
    assert values["values-per-temp"] == pytest.approx(round(values["values-per-temp"]), rel=0.01)


def test_both_cores_numbers(values):
    # "On both cores, the N devices had a speed ratio of R against the whole grid (95 % interval
    # L to H) ... they kept ... cores busy. The devices against the blocks ... R (L to H)":
    # numbers, not verdicts (they moved between builds).
    for key in ["devices-vs-whole", "devices-vs-blocks"]:
        r = values[f"{key}-ratio"]
        assert values[f"{key}-low"] <= r <= values[f"{key}-high"], key
        assert f"{key}-verdict" not in values, key
    for key in ["whole", "blocks", "devices"]:
        assert 0 < values[f"busy-{key}"] <= values["cores"] + 0.2, key


def test_on_one_core_the_devices_are_the_blocks(values):
    # "On one core ... the devices against the blocks gave R (L to H): on one core, whatever the
    # simulated devices gain over the whole grid, a single device gets as well, by working in
    # smaller blocks."
    for key in ["one-core-blocks", "one-core-devices", "one-core-devices-vs-blocks"]:
        r = values[f"{key}-ratio"]
        assert values[f"{key}-low"] <= r <= values[f"{key}-high"], key
        assert f"{key}-verdict" not in values, key
    for key in ["whole", "blocks", "devices"]:
        assert values[f"busy-one-core-{key}"] < 1.1, key
    assert abs(values["one-core-devices-vs-blocks-ratio"] - 1) < 0.1


def test_fresh_pages(values):
    # "The whole grid received F fresh pages per call; its temporaries fill P pages. The blocks in
    # turn received B and the devices D ... a buffer above the ceiling [32 MiB] is mapped afresh
    # each time it is allocated": the whole grid's buffer is above 32 MiB, the blocks' below.
    assert values["temp-whole-pages"] * 4096 > 32 * 2**20
    assert 0 <= values["faults-whole"] <= 1.02 * values["temp-whole-pages"]
    for key in ["blocks", "devices"]:
        assert values[f"faults-{key}"] >= 0, key


def test_the_heap_control(values):
    # "With the temporaries kept in the heap, the whole grid took F fresh pages per call instead
    # of F0 ... Read the two together": numbers, and a reading rule, not a conclusion.
    # "A control keeps the sizes and removes most of the fresh pages" (a fifth of them remained
    # in one fresh-clone build, none in others).
    assert values["faults-whole-heap"] < 0.5 * values["temp-whole-pages"]
    for key in ["whole", "blocks", "devices"]:
        assert values[f"busy-heap-{key}"] < 1.1, key
    for key in ["blocks", "devices"]:
        r = values[f"heap-{key}-ratio-value"]
        assert values[f"heap-{key}-low"] <= r <= values[f"heap-{key}-high"], key
        assert f"heap-{key}-verdict" not in values, key


def test_two_core_heap_numbers(values):
    # "On both cores, with the heap, the devices gave a speed ratio of R (L to H) against the whole
    # grid and Q (L to H) against the blocks in turn, keeping B cores busy against W and K ...
    # this page has no control and draws no conclusion": numbers only, no verdict.
    for key in ["whole", "blocks"]:
        r = values[f"heap-devices-vs-{key}-ratio"]
        assert values[f"heap-devices-vs-{key}-low"] <= r <= values[f"heap-devices-vs-{key}-high"], key
        assert f"heap-devices-vs-{key}-verdict" not in values, key
    for key in ["whole", "blocks", "devices"]:
        assert 0 < values[f"busy-heap-both-{key}"] <= values["cores"] + 0.2, key


def test_maximum_holders(values):
    # "only device(s) H found it": the middle rows hold the origin.
    holders = [int(h) for h in values["max-holders"].split(" and ")]
    d = values["n-devices"]
    assert holders == ([d // 2 - 1, d // 2] if d % 2 == 0 else [d // 2])
    assert values["max-holders-noun"] == ("devices" if len(holders) > 1 else "device")


def test_monte_carlo(values):
    mean, stderr, fine = values["mc-mean"], values["mc-stderr"], values["fine-mean"]
    for value in (mean, stderr, fine):
        assert isinstance(value, float) and math.isfinite(value) and value > 0
    assert values["mc-samples"] == f"{values['n-devices'] * 500_000:,}"
    assert abs(mean - fine) <= 4 * stderr
    assert values["sqrt-devices"] == pytest.approx(math.sqrt(values["n-devices"]))


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results against a reference are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "np.testing.assert_allclose(share, values / values.sum()",
        "np.testing.assert_allclose(float(sharded_max), reference_max",
        "np.testing.assert_allclose(float(manual_max), reference_max",
        "np.testing.assert_allclose(difference, jnp.roll(profile, -1) - profile",
        "np.testing.assert_allclose(mean_parallel, mean_single",
        "assert abs(z_score) < 4",
        "assert collide",
        "np.testing.assert_allclose(float(max_2d), reference_max",
        "np.testing.assert_allclose(mean_fold_in, mean_parallel",
        "assert np.all(same_key_sums == same_key_sums[0])",
        "np.testing.assert_allclose(normalised_sm, normalised_pmap",
        "mallopt(M_MMAP_THRESHOLD, 1 << 30)",
        "heap_control = set_ok == [1, 1]",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_what_the_prose_shows(lecture):
    lec = lecture(LECTURE)
    n, d = lec.glued["grid-n"], lec.glued["n-devices"]
    split_table = text_output(lec.cell("shard_table(grid_split)"))
    for device in range(d):
        assert f"cpu:{device}" in split_table
    assert f"({n // d},)" in split_table
    assert f"float32[{n}@devices]" in text_output(lec.cell("grid_split = jax.device_put(grid, split)"))
    assert "(Explicit,) | (Auto,)" in text_output(lec.cell("print(mesh.axis_types"))
    assert "illegally sharded" in text_output(lec.cell("f(grid_split[:, None], grid_split[None, :])"))
    assert f"float32[{n}@devices,{n}]" in text_output(lec.cell("y_everywhere = jax.sharding.reshard"))
    rows = text_output(lec.cell("values_split = jax.jit(f_grid)"))
    assert f"float32[{n}@devices,{n}]" in rows and f"({n // d}, {n})" in rows
    assert "fold_in(key, i) == split(key, n)[i] for every i: True" in text_output(lec.cell("collide = bool("))
    assert "first call" not in text_output(lec.cell("both_cores = lu.compare(versions"))
    heap = text_output(lec.cell("heap_one_core = lu.compare(versions"))
    assert "first call" not in heap
    assert "mallopt returned [1, 1]" in heap and "skipped" not in heap
    refusal = text_output(lec.cell("out_specs=P()))(grid_split, grid_copied)"))
    assert "out_specs which require replication which can't be statically inferred" in refusal
