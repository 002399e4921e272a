"""The GPU lecture and its benchmark script.

The lecture must build honestly on any machine: it executed, glued what its
prose relies on, and says which device it ran on (a CPU-only build says so).
GPU numbers may reach the page only from lectures/data/gpu_results.json,
written by scripts/gpu_bench.py, and only with complete provenance: the reader
in that script rejects a file that lacks any provenance field, naming the
fields. The script itself refuses to run without a CUDA GPU.

The loader and script tests need no built site; the lecture tests do. What every
lecture must do (run without errors or stderr, ...) is checked in tests/test_lectures.py.
"""

import copy
import importlib.util
import json
import math
import re
import subprocess
import sys

import pytest

from conftest import ROOT, source, tags

LECTURE = "gpu"
BENCH = ROOT / "scripts" / "gpu_bench.py"
RECORDED = ROOT / "lectures" / "data" / "gpu_results.json"
CPU_SENTENCE = "This page was built on a CPU-only machine; the cells below ran on the CPU."
LOCAL_PATH = re.compile(r"/(tmp|root|home|work|Users)/")


def load_bench():
    spec = importlib.util.spec_from_file_location("gpu_bench_under_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return load_bench()


def synthetic_record():
    """A complete file, as the script writes it. Synthetic test data, not a measurement."""
    def entry(benchmark, version, device, median, dtype="float32", threads=None):
        return {"benchmark": benchmark, "version": version, "device": device, "dtype": dtype, "size": 64,
                "threads": threads, "median_s": median, "min_s": median * 0.9, "repeat": 3, "first_call_s": median}

    return {
        "device_name": "Synthetic test device (not a measurement)",
        "driver_version": "0.0",
        "cuda_version": "0.0 (synthetic)",
        "library_versions": {"torch": "0.0", "jax": "0.0", "numpy": "0.0"},
        "date_utc": "2000-01-01T00:00:00+00:00",
        "machine": {"cpu_model": "Synthetic CPU", "cpu_cores": 4},
        "command": "python scripts/gpu_bench.py",
        "results": [
            entry("grid_max", "NumPy (ufuncs, 1 thread)", "cpu", 4.0, threads=1),
            entry("grid_max", "PyTorch CPU (4 threads)", "cpu", 2.0, threads=4),
            entry("grid_max", "PyTorch GPU", "gpu", 0.5),
            entry("transfer", "host to device (pinned)", "gpu", 1.0),
        ],
    }


def write(tmp_path, data):
    path = tmp_path / "gpu_results.json"
    path.write_text(json.dumps(data))
    return path


# --- the recorded-results reader ------------------------------------------------


def test_reader_accepts_a_complete_file(bench, tmp_path):
    data = bench.load_recorded_results(write(tmp_path, synthetic_record()))
    assert data["device_name"].startswith("Synthetic")


def test_reader_rejects_a_file_without_provenance_and_names_the_fields(bench, tmp_path):
    results_only = {"results": synthetic_record()["results"]}
    with pytest.raises(ValueError) as info:
        bench.load_recorded_results(write(tmp_path, results_only))
    message = str(info.value)
    assert "provenance" in message
    for field in bench.PROVENANCE_FIELDS:
        if field != "results":
            assert field in message, f"{field} not named in: {message}"


@pytest.mark.parametrize("field", ["device_name", "driver_version", "cuda_version", "library_versions",
                                   "date_utc", "machine", "command", "results"])
def test_reader_names_each_missing_field(bench, tmp_path, field):
    data = synthetic_record()
    del data[field]
    with pytest.raises(ValueError, match=re.escape(field)):
        bench.load_recorded_results(write(tmp_path, data))
    data = synthetic_record()
    data[field] = ""  # present but empty counts as missing
    with pytest.raises(ValueError, match=re.escape(field)):
        bench.load_recorded_results(write(tmp_path, data))


@pytest.mark.parametrize("section, key, named", [
    ("library_versions", "torch", "library_versions.torch"),
    ("library_versions", "jax", "library_versions.jax"),
    ("machine", "cpu_model", "machine.cpu_model"),
    ("machine", "cpu_cores", "machine.cpu_cores"),
])
def test_reader_names_missing_nested_fields(bench, tmp_path, section, key, named):
    data = synthetic_record()
    del data[section][key]
    with pytest.raises(ValueError, match=re.escape(named)):
        bench.load_recorded_results(write(tmp_path, data))


def test_reader_checks_every_result_and_the_date(bench, tmp_path):
    data = synthetic_record()
    del data["results"][2]["median_s"]
    with pytest.raises(ValueError, match=re.escape("results[2].median_s")):
        bench.load_recorded_results(write(tmp_path, data))
    data = synthetic_record()
    data["date_utc"] = "last Tuesday"
    with pytest.raises(ValueError, match="date_utc"):
        bench.load_recorded_results(write(tmp_path, data))


def test_reader_rejects_what_is_not_a_json_object(bench, tmp_path):
    path = tmp_path / "gpu_results.json"
    path.write_text("not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        bench.load_recorded_results(path)
    path.write_text("[]")
    with pytest.raises(ValueError, match="JSON object"):
        bench.load_recorded_results(path)


def test_recorded_table_quotes_speedups_against_the_best_cpu_version(bench):
    table = bench.recorded_table(synthetic_record(), "grid_max")
    assert table.loc["PyTorch GPU", "speedup_vs_best_cpu"] == pytest.approx(2.0 / 0.5)  # best CPU is 2.0 s
    assert table.loc["PyTorch CPU (4 threads)", "speedup_vs_best_cpu"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no results"):
        bench.recorded_table(synthetic_record(), "matmul")


def test_recorded_file_in_the_repository_has_provenance(bench):
    if not RECORDED.exists():
        pytest.skip("no recorded GPU results in the repository yet")
    bench.load_recorded_results(RECORDED)


# --- the benchmark script -----------------------------------------------------


def test_importing_the_script_runs_nothing():
    code = (f"import importlib.util, sys; spec = importlib.util.spec_from_file_location('b', {str(BENCH)!r}); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "assert not {'torch', 'jax', 'numpy'} & set(sys.modules), sorted(sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_script_refuses_to_run_without_a_cuda_gpu(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU: the script would run the benchmarks")
    output = tmp_path / "gpu_results.json"
    result = subprocess.run([sys.executable, str(BENCH), "--output", str(output)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no CUDA GPU" in result.stderr and "Nothing was written" in result.stderr
    assert not output.exists()


def test_recorded_command_has_no_local_paths(bench, tmp_path):
    command = bench._command(["scripts/gpu_bench.py", "--output", str(tmp_path / "x.json"), "--repeat=3"])
    assert command.startswith("python scripts/gpu_bench.py") and "--repeat=3" in command
    assert str(tmp_path) not in command and not LOCAL_PATH.search(command)


# --- the executed lecture -------------------------------------------------------


def test_page_says_which_device_it_ran_on(lecture):
    values = lecture(LECTURE).glued
    assert values["build-device"] in {"cpu", "cuda"}
    if values["build-device"] == "cpu":
        assert values["device-sentence"] == CPU_SENTENCE
        assert values["numba-where"] == "in the CUDA simulator on the CPU"
        assert "no GPU" in values["cupy-sentence"] and "not run" in values["cupy-sentence"]
        assert "only CPU results" in values["tables-sentence"]
    else:
        assert "GPU" in values["device-sentence"] and values["numba-where"] == "on the GPU"
    assert values["jax-sentence"].startswith("JAX's default device was")


def test_glued_numbers_exist_and_are_sane(lecture):
    values = lecture(LECTURE).glued
    assert values["cores"] >= 1 and values["torch-threads"] == values["cores"]
    assert values["blas-threads"] >= 1 and values["torch-default-threads"] >= 1
    for name in ["gflops-32", "gflops-64", "precision-ratio", "dispatch-ratio", "torch-vs-numpy-small",
                 "break-even-f", "break-even-mm", "n-star-torch", "numba-points-per-thread"]:
        value = values[name]
        assert isinstance(value, float) and math.isfinite(value) and value > 0, (name, value)
    for name in ["dispatch-only", "waited-time", "mm-transfer", "mm-compute", "f-transfer", "f-compute",
                 "torch-fixed-cost", "numpy-fixed-cost", "grid-best-cpu-time"]:
        assert values[name].split()[-1] in {"s", "ms", "µs", "ns"}, (name, values[name])
    for name in ["mm-bytes", "f-bytes", "grid-bytes"]:
        assert values[name].split()[-1] in {"B", "KiB", "MiB", "GiB"}, (name, values[name])
    for name in ["noop-sentence", "transfer-sentence", "compile-sentence", "dispatch-sentence",
                 "tables-sentence", "recorded-sentence", "cupy-sentence"]:
        assert isinstance(values[name], str) and len(values[name]) > 20, name
    assert values["fig-size-sweep"].startswith("<Figure")
    assert values["numba-threads"] * values["numba-points-per-thread"] == pytest.approx(values["numba-points"])
    assert values["numba-points"] == values["numba-n"] ** 2
    assert values["sweep-smallest"] < values["sweep-largest"]


def test_sentences_follow_the_measurements(lecture):
    values = lecture(LECTURE).glued
    if values["build-device"] == "cpu":
        assert "moved nothing" in values["noop-sentence"]
        assert "moves nothing" in values["transfer-sentence"]
    assert ("times as long" in values["dispatch-sentence"]) == (values["dispatch-ratio"] > 2)
    if values["torch-compile-ran"]:
        assert values["compile-sentence"].startswith("Compiled, the function took")
    else:
        assert "did not run on this build" in values["compile-sentence"]


def test_recorded_results_are_shown_only_from_the_file(lecture):
    values = lecture(LECTURE).glued
    if RECORDED.exists():
        assert values["recorded-available"] is True
        assert values["recorded-sentence"].startswith("The tables below were recorded on")
    else:
        assert values["recorded-available"] is False
        assert values["recorded-sentence"].startswith("No recorded GPU results exist yet")
        assert "python scripts/gpu_bench.py" in values["recorded-sentence"]


def test_result_checks_are_in_the_lecture(lecture):
    """The cells that check results against a reference are there (tests/test_lectures.py: every cell ran)."""
    code = [source(c) for c in lecture(LECTURE).code_cells]
    for snippet in [
        "np.testing.assert_allclose(grid_max_torch(grid_dev).item(), reference",
        "np.testing.assert_allclose((a_dev @ b_dev).cpu().numpy(), c_reference",
        "np.testing.assert_allclose(numba_result, grid_max_numpy(",
        "np.testing.assert_allclose(float(grid_max_jax(grid_jax)), reference",
        "np.testing.assert_allclose(float(func(grid_n)), expected",
    ]:
        assert any(snippet in text for text in code), f"no code cell contains {snippet!r}"


def test_cupy_is_imported_only_inside_the_gpu_branch(lecture):
    for cell in lecture(LECTURE).code_cells:
        for line in source(cell).splitlines():
            if re.match(r"\s*(import|from)\s+cupy\b", line):
                assert line.startswith(" "), f"cupy imported at the top level of a cell: {line!r}"


TIMING_CELLS = [
    "dispatch_only = time_without_waiting(", "t_mm_transfer = lu.timeit(", "transfer_sentence = (",
    "t_mm64 = lu.timeit(", "t_eager = lu.timeit(", "t_cupy = cupy_grid_max_timing(", "sweep = {label",
    "fig = lu.scaling_plot(", "sweep_table = pd.DataFrame(", "grid_timings = [", "matmul_timings = [",
    "tables_sentence = (", "t_f_numpy = lu.timeit(", "LINK_GB_S = None", "rows[label] = [",
]


def test_cells_that_show_timings_are_tagged(lecture):
    """Cells whose outputs depend on timings carry the tag `timing`, so `make check-determinism` skips them.

    tests/test_lectures.py finds the cells that show durations; these also show rates, ratios
    and sentences worded from timings, which it cannot recognise.
    """
    for snippet in TIMING_CELLS:
        assert "timing" in tags(lecture(LECTURE).cell(snippet)), f"cell with {snippet!r} is not tagged timing"
