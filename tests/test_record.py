"""Records of other machines: `make record` (scripts/record.py) and the helpers that read them.

The recording's CPU part runs here at small sizes, and its output must pass the
same check as a real record; the GPU part needs an NVIDIA GPU and is tested
only as far as finding none. The helpers in lecture_utils refuse a record whose
provenance or raw samples are incomplete. None of these tests needs a built site.
"""

import copy
import json
import re
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
import record

import lecture_utils as lu
from conftest import ROOT

SCRIPT = ROOT / "scripts" / "record.py"
DATA = ROOT / "lectures" / "data"
LOCAL_PATH = re.compile(r"/(tmp|root|home|work|Users)/")
KERNELS = ["process_pool", "blas_matmul", "numba_grid_max", "stream_triad", "jax_grid_max"]
SMALL = ["--max-time", "0.3", "--grid-n", "200", "--matmul-n", "128", "--triad-n", "100000",
         "--tasks", "4", "--task-size", "200", "--no-gpu"]  # fmt: skip


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The script run at small sizes with this Python, into a scratch file: (data, file, stdout)."""
    output = tmp_path_factory.mktemp("record") / "record-small.json"
    result = subprocess.run([sys.executable, str(SCRIPT), *SMALL, "--output", str(output)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(output.read_text()), output, result.stdout


def synthetic():
    """A complete record, as the script writes it. Synthetic test data, not a measurement."""

    one = [3.6, 4.0, 4.8, 3.9, 4.1, 4.4, 3.8]  # one thread's samples in 7 rounds; each ratio is what samples give

    def point(threads, speedup):
        samples = one if threads == 1 else [t / speedup * (1 + 0.02 * k) for k, t in enumerate(one)]
        verdict = lu._verdict("p", "1", samples, one, lu.NOISE_THRESHOLD)
        ratio, low, high = (1.0, 1.0, 1.0) if threads == 1 else (verdict.ratio, verdict.low, verdict.high)
        return {"threads": threads, "median_s": float(np.median(samples)), "min_s": min(samples),
                "samples_s": samples, "busy_cores": threads * 0.9, "ratio": ratio, "low": low, "high": high}  # fmt: skip

    def entry(benchmark, version, device, median):
        return {"benchmark": benchmark, "version": version, "device": device, "dtype": "float32", "size": 64,
                "threads": None if device == "gpu" else 4, "median_s": median, "min_s": median,
                "samples_s": [median, median, median]}  # fmt: skip

    return {
        "format": lu.RECORD_FORMAT,
        "date_utc": "2000-01-01T00:00:00+00:00",
        "command": "python scripts/record.py",
        "machine": {
            "cpu_model": "Synthetic CPU",
            "cpu_cores": 4,
            "logical_cpus": 4,
            "memory_bytes": 2**30,
            "operating_system": "Synthetic OS",
            "python": "3.12.0",
        },  # fmt: skip
        "gpu": {
            "device_name": "Synthetic GPU (not a measurement)",
            "device_memory_bytes": 2**30,
            "compute_capability": "0.0",
            "driver_version": "0.0",
            "cuda_version": "0.0",
        },  # fmt: skip
        "library_versions": {"numpy": "0.0"},
        "settings": {"max_time": 1.0},
        "notes": [],
        "scaling": [
            {
                "kernel": "numba_grid_max",
                "description": "synthetic",
                "size": {"N": 64},
                "control": "synthetic",
                "points": [point(1, 4.0), point(2, 2.1), point(4, 1.2)],
            }
        ],  # fmt: skip
        "results": [entry("grid_max", "NumPy", "cpu", 2.0), entry("grid_max", "PyTorch GPU", "gpu", 0.5)],
    }


def check(data):
    lu.validate_recorded_results(data)


# --- the record's check (lecture_utils) -------------------------------------------


def test_a_complete_record_passes():
    check(synthetic())
    without_gpu = synthetic()
    without_gpu["gpu"], without_gpu["results"] = None, []
    check(without_gpu)


@pytest.mark.parametrize("field", list(lu.PROVENANCE_FIELDS) + ["gpu"])
def test_each_missing_provenance_field_is_named(field):
    data = synthetic()
    del data[field]
    with pytest.raises(ValueError, match=re.escape(field)):
        check(data)


@pytest.mark.parametrize(
    "section, key",
    [("machine", key) for key in lu.MACHINE_FIELDS] + [("gpu", key) for key in lu.GPU_FIELDS],
)
def test_each_missing_machine_or_gpu_field_is_named(section, key):
    data = synthetic()
    data[section][key] = ""  # present but empty counts as missing
    with pytest.raises(ValueError, match=re.escape(f"{section}.{key}")):
        check(data)


def test_raw_samples_must_be_there_and_agree_with_the_summary():
    data = synthetic()
    del data["scaling"][0]["points"][1]["samples_s"]
    with pytest.raises(ValueError, match=re.escape("scaling[0].points[1].samples_s")):
        check(data)
    data = synthetic()
    data["scaling"][0]["points"][0]["median_s"] = 99.0
    with pytest.raises(ValueError, match=re.escape("scaling[0].points[0].median_s is not the median")):
        check(data)
    data = synthetic()
    data["results"][1]["min_s"] = 0.1
    with pytest.raises(ValueError, match=re.escape("results[1].min_s is not the fastest")):
        check(data)
    data = synthetic()
    data["results"][0]["samples_s"] = [1.0, -1.0]
    with pytest.raises(ValueError, match=re.escape("results[0].samples_s must be a list of positive")):
        check(data)


@pytest.mark.parametrize(
    "edit, named",
    [
        (lambda d: d["scaling"][0]["points"][1].update(ratio=12.0), "ratio, low and high are not what its samples"),
        (lambda d: d["scaling"][0]["points"][2].update(low=9.0), "ratio, low and high are not what its samples"),
        (lambda d: d["scaling"][0]["points"][0].update(ratio=3.0), "points[0]: ratio, low and high"),
        (lambda d: d["machine"].update(cpu_cores="many"), "machine.cpu_cores must be a whole number"),
        (lambda d: d["machine"].update(cpu_cores=0), "machine.cpu_cores"),
        (lambda d: d["results"][0].update(samples_s=[True, True, True]), "samples_s must be a list of positive"),
        (lambda d: d["results"][0].update(median_s="2.0"), "median_s and min_s must be numbers"),
        (
            lambda d: d["scaling"][0]["points"][1]["samples_s"].append(d["scaling"][0]["points"][1]["median_s"]),
            "one sample per round",
        ),  # the median and minimum still agree with the samples
        (lambda d: d["scaling"].append(copy.deepcopy(d["scaling"][0])), "recorded twice"),
        (lambda d: d["scaling"][0].update(points="x"), "points must be a list of objects"),
        (lambda d: d["results"][1].update(device="cuda"), "device must be 'cpu' or 'gpu'"),
        (lambda d: d["scaling"][0]["points"][1].update(busy_cores=-5), "busy_cores must be a number"),
        (lambda d: d.pop("notes"), "notes (a list of strings"),
        (lambda d: d.update(notes="one note"), "notes (a list of strings"),
        (lambda d: d.update(command="python /home/me/record.py"), "command holds a local path"),
        (lambda d: d["machine"].update(cpu_cores=2), "4 threads on a machine with 2 CPUs"),
    ],
)
def test_a_hand_edited_record_is_refused(edit, named):
    data = synthetic()
    edit(data)
    with pytest.raises(ValueError, match=re.escape(named)):
        check(data)


def test_busy_cores_may_be_unknown():
    data = synthetic()
    data["scaling"][0]["points"][1]["busy_cores"] = None  # a recording machine without psutil, for a pool
    check(data)


def test_a_gpu_result_needs_a_gpu_and_points_start_at_one_thread():
    data = synthetic()
    data["gpu"] = None
    with pytest.raises(ValueError, match=re.escape("results[1] ran on a GPU")):
        check(data)
    data = synthetic()
    data["scaling"][0]["points"] = data["scaling"][0]["points"][1:]
    with pytest.raises(ValueError, match="must start at 1 thread"):
        check(data)


def test_an_empty_record_another_format_and_a_bad_date_are_refused():
    data = synthetic()
    data["scaling"], data["results"] = [], []
    with pytest.raises(ValueError, match="nothing was recorded"):
        check(data)
    data = synthetic()
    data["format"] = 1
    with pytest.raises(ValueError, match="rerun make record"):
        check(data)
    data = synthetic()
    data["date_utc"] = "last Tuesday"
    with pytest.raises(ValueError, match="date_utc"):
        check(data)
    data["date_utc"] = "2000-01-01T00:00:00"
    with pytest.raises(ValueError, match="no time zone"):
        check(data)
    with pytest.raises(ValueError, match="JSON object"):
        check([])


def test_load_records_reads_every_record_oldest_first_and_names_a_bad_file(tmp_path):
    assert lu.load_records(tmp_path / "absent") == []  # a downloaded notebook has no data folder
    newer, older = synthetic(), synthetic()
    newer["date_utc"] = "2001-01-01T00:00:00+00:00"
    (tmp_path / "record-b.json").write_text(json.dumps(older))
    (tmp_path / "record-a.json").write_text(json.dumps(newer))
    (tmp_path / "notes.json").write_text("not a record, not read")
    assert [r["date_utc"][:4] for r in lu.load_records(tmp_path)] == ["2000", "2001"]
    (tmp_path / "record-c.json").write_text("not json")
    with pytest.raises(ValueError, match="record-c.json"):
        lu.load_records(tmp_path)


def test_label_and_scaling_curve_of_a_record():
    data = synthetic()
    assert lu.record_label(data) == "Synthetic GPU (not a measurement), Synthetic CPU (4 CPUs), 2000-01-01"
    assert lu.record_label(data, gpu=False) == "Synthetic CPU (4 CPUs), 2000-01-01"
    data["gpu"] = None
    assert lu.record_label(data) == "Synthetic CPU (4 CPUs), 2000-01-01"
    curve = lu.record_scaling(data, "numba_grid_max")
    assert list(curve["threads"]) == [1, 2, 4] and curve["speedup"][2] == data["scaling"][0]["points"][2]["ratio"]
    assert lu.record_scaling(data, "blas_matmul") is None


def test_recorded_scaling_plot_draws_each_record_and_the_build():
    fig, ax = plt.subplots()
    build = [None, lu.Verdict("2 threads", "1 thread", 1.9, 1.8, 2.0)]
    other = synthetic()
    other["scaling"] = []
    other["gpu"], other["results"] = None, [synthetic()["results"][0]]
    label = lu.record_label(synthetic(), gpu=False)  # a CPU curve: the machine's GPU is not named
    assert lu.plot_recorded_scaling(ax, "numba_grid_max", [1, 2], build, [synthetic(), other]) == [label]
    legend = [" ".join(text.split()) for text in ax.get_legend_handles_labels()[1]]  # labels are wrapped
    assert set(legend) == {f"recorded: {label}", "ideal", "this build"}  # the record without the kernel: left out
    assert ax.get_xscale() == ax.get_yscale() == "linear" and ax.get_xlim()[1] >= 4
    with pytest.raises(ValueError, match="threads starting at 1"):
        lu.plot_recorded_scaling(ax, "numba_grid_max", [2, 1], build, [])
    plt.close(fig)


def test_recorded_scaling_sentence_labels_records_and_says_when_there_are_none():
    none = lu.recorded_scaling_sentence("numba_grid_max", [], 2)
    assert none.startswith("No machine with more cores has been recorded") and "this build's 2 threads" in none
    one = lu.recorded_scaling_sentence("numba_grid_max", [synthetic()], 2)
    label = lu.record_label(synthetic(), gpu=False)
    assert one.startswith(f"Recorded by make record, not by this build, on {label} (UTC dates).")
    curve = lu.record_scaling(synthetic(), "numba_grid_max")
    assert one.endswith(
        f"There, on 4 threads the kernel ran {curve['speedup'][-1]:.1f} times as fast as on one (95 % interval "
        f"{curve['low'][-1]:.1f} to {curve['high'][-1]:.1f}), with N = 64."
    )
    bigger = synthetic()
    bigger["machine"]["cpu_model"], bigger["date_utc"] = "Bigger CPU", "2001-01-01T00:00:00+00:00"
    bigger["scaling"][0]["points"].append(dict(bigger["scaling"][0]["points"][-1], threads=8))
    two = lu.recorded_scaling_sentence("numba_grid_max", [synthetic(), bigger], 2)
    assert f"On {lu.record_label(bigger, gpu=False)}, the record with the most threads, on 8 threads" in two
    assert lu.recorded_scaling_sentence("blas_matmul", [synthetic()], 2).startswith("No machine with more cores")
    with pytest.raises(ValueError, match="build_threads"):
        lu.recorded_scaling_sentence("numba_grid_max", [], 0)


def test_every_committed_record_passes_its_check():
    # The pages read these; a record committed without its provenance or samples must fail here first.
    records = lu.load_records(DATA)
    assert len(records) == len(list(DATA.glob("record-*.json")))


# --- the recording script -----------------------------------------------------------


def test_importing_the_script_runs_nothing():
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'scripts')!r}); import record; "
            "assert not {'torch', 'jax', 'numba'} & set(sys.modules), sorted(sys.modules)")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_helpers_import_on_a_machine_without_matplotlib():
    # The recording machine's own Python may lack matplotlib: lecture_utils must still measure there.
    code = (f"import sys; sys.modules['matplotlib'] = None; sys.path.insert(0, {str(ROOT / 'lectures')!r}); "
            "import lecture_utils as lu; print(lu.compare({'a': sum, 'b': sum}, [1.0], max_time=0.05).baseline)")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "a", result.stderr


@pytest.mark.parametrize("cores, counts", [(1, [1]), (2, [1, 2]), (6, [1, 2, 4, 6]), (16, [1, 2, 4, 8, 16])])
def test_thread_counts(cores, counts):
    assert record.thread_counts(cores) == counts


def test_one_file_per_machine_named_after_it():
    machine = {"cpu_model": "AMD EPYC 9454 48-Core Processor", "cpu_cores": 16}
    assert record.output_name(machine, None) == "record-amd-epyc-9454-48-core-processor-16cores.json"
    assert record.output_name(machine, {"device_name": "NVIDIA H200"}) == (
        "record-nvidia-h200-amd-epyc-9454-48-core-processor-16cores.json"
    )


def test_the_command_has_no_local_paths(tmp_path):
    command = record.command(["scripts/record.py", "--output", str(tmp_path / "x.json"), "--max-time=3"])
    assert command.startswith("python scripts/record.py") and "--max-time=3" in command
    assert str(tmp_path) not in command and not LOCAL_PATH.search(command)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--no-cpu", "--no-gpu"], "nothing to record"),
        (["--max-time", "0"], "--max-time must be positive"),
        (["--tasks", "0"], "--tasks must be at least 1"),
    ],  # fmt: skip
)
def test_bad_arguments_say_what_is_wrong(arguments, message):
    result = subprocess.run([sys.executable, str(SCRIPT), *arguments], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr, result.stderr


@pytest.mark.parametrize(
    "module, function, note",
    [
        ("numba", "numba_kernels", "Numba is missing"),
        ("jax", "jax_kernel", "JAX is missing"),
        ("threadpoolctl", "blas_matmul", "threadpoolctl is missing"),
    ],  # fmt: skip
)
def test_a_missing_library_is_noted_and_skipped(monkeypatch, module, function, note):
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    notes = []
    result = getattr(record, function)(record.parse_args(SMALL), [1, 2], notes)
    assert result in (None, []) and len(notes) == 1 and note in notes[0]


def test_the_jax_versions_wait_for_their_result_on_p_cores_and_free_them_after():
    import os

    everything = os.sched_getaffinity(0)

    class Result:  # what a JAX call returns: the version waits for it before the cores are freed
        def block_until_ready(self):
            self.seen = os.sched_getaffinity(0)
            return self

    assert record.confined_calls(1, Result)().seen == {min(everything)}
    assert os.sched_getaffinity(0) == everything


def test_a_gpu_the_driver_lists_but_pytorch_cannot_use_stops_the_run(monkeypatch):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    monkeypatch.setattr(lu, "_gpus_from_driver", lambda: ["NVIDIA Test GPU"])
    with pytest.raises(SystemExit, match="PyTorch sees no CUDA GPU.*--no-gpu"):
        record.find_gpu([])


@pytest.mark.parametrize("text, cpus", [("max 100000", None), ("400000 100000", 4), ("150000 100000", 2)])
def test_a_cgroup_quota_is_read_as_whole_cpus(monkeypatch, tmp_path, text, cpus):
    quota = tmp_path / "cpu.max"
    quota.write_text(text + "\n")
    real_path = record.Path
    monkeypatch.setattr(record, "Path", lambda p: quota if p == "/sys/fs/cgroup/cpu.max" else real_path(p))
    assert record.quota_cpus() == cpus


def test_one_cpu_is_refused_with_advice():
    import os

    one = {min(os.sched_getaffinity(0))}
    result = subprocess.run([sys.executable, str(SCRIPT), *SMALL, "--output", "/dev/null"], capture_output=True,
                            text=True, timeout=120, preexec_fn=lambda: os.sched_setaffinity(0, one))  # fmt: skip
    assert result.returncode == 1 and "a scaling needs at least 2" in result.stderr and "--exclusive" in result.stderr


def test_without_psutil_the_pools_busy_cores_are_unknown(monkeypatch):
    monkeypatch.setitem(sys.modules, "psutil", None)
    notes = []
    args = record.parse_args(["--max-time", "0.05", "--tasks", "2", "--task-size", "20"])
    pool = record.process_pool(args, [1, 2], notes)
    assert [p["busy_cores"] for p in pool["points"]] == [None, None]
    assert notes == ["psutil is missing: the process pool's busy cores are unknown (null)."]
    check(dict(synthetic(), scaling=[pool]))


def test_no_gpu_here_is_noted():
    notes = []
    if record.find_gpu(notes) is not None:
        pytest.skip("this machine has a CUDA GPU")
    assert len(notes) == 1 and ("no CUDA GPU" in notes[0] or "PyTorch is missing" in notes[0])


@pytest.mark.slow
def test_the_small_recording_passes_the_records_check(recorded):
    data, output, stdout = recorded
    assert lu.load_recorded_results(output) == data
    assert data["gpu"] is None and data["results"] == []
    assert data["notes"] == []  # this environment has every library the CPU part uses
    assert f"wrote {output.name}: 5 scaling curves and 0 GPU results" in stdout
    assert data["machine"]["cpu_cores"] == lu.cores() and data["machine"]["cpu_model"] == lu.cpu_model()
    assert data["library_versions"]["numpy"] == np.__version__
    assert data["settings"]["grid_n"] == 200 and data["settings"]["tasks"] == 4
    assert not LOCAL_PATH.search(json.dumps({k: v for k, v in data.items() if k != "settings"}))


@pytest.mark.slow
def test_the_small_recording_scales_every_kernel_in_interleaved_rounds(recorded):
    data = recorded[0]
    assert [c["kernel"] for c in data["scaling"]] == KERNELS
    counts = record.thread_counts(lu.cores())
    for curve in data["scaling"]:
        points = curve["points"]
        assert [p["threads"] for p in points] == counts, curve["kernel"]
        assert points[0]["ratio"] == points[0]["low"] == points[0]["high"] == 1.0
        rounds = {len(p["samples_s"]) for p in points}
        assert len(rounds) == 1 and rounds.pop() >= 7, curve["kernel"]  # one sample per version per round
        for p in points[1:]:
            assert p["low"] <= p["ratio"] <= p["high"]
            # the ratio is the median of per-round ratios of the samples against one thread
            per_round = np.array(points[0]["samples_s"]) / np.array(p["samples_s"])
            assert p["ratio"] == pytest.approx(float(np.median(per_round)))
    triad = next(c for c in data["scaling"] if c["kernel"] == "stream_triad")
    assert "arrays of 100,000 elements" in triad["description"]  # the size run, not the default's rule
    jax_points = next(c for c in data["scaling"] if c["kernel"] == "jax_grid_max")["points"]
    assert all(0 < p["confinement_s"] < p["median_s"] for p in jax_points)
    assert data["machine"]["physical_cores"] >= 1 and data["machine"]["last_level_cache"]["bytes_total"] > 0
    for p in triad["points"]:
        assert p["bandwidth_gb_s"] == pytest.approx(24 * 100_000 / p["median_s"] / 1e9)


@pytest.mark.slow
def test_a_copy_of_the_small_recording_missing_its_samples_is_refused(recorded):
    data = copy.deepcopy(recorded[0])
    del data["scaling"][0]["points"][0]["samples_s"]
    with pytest.raises(ValueError, match="samples_s"):
        check(data)
