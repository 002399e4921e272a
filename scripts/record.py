"""Record this machine's results for the site, with their provenance: `make record`.

Usage, from the repository root, with the machine's own Python (it needs NumPy
and SciPy; everything else it finds is used, and what it lacks is noted)::

    python3 scripts/record.py                  # writes lectures/data/record-<machine>.json
    python3 scripts/record.py --help           # problem sizes, time per kernel, output file

It records two things.

* **CPU scaling** of the site's key kernels at 1, 2, 4, 8, 16, ... threads, up
  to this process's cores: the Numba ``prange`` grid maximum of the lecture on
  Numba's parallel loops, a BLAS matrix multiply, a STREAM triad, a process
  pool on CPU-bound pure-Python tasks, and a JAX ``jit`` kernel.  All thread
  counts of one kernel are timed in the same interleaved rounds by
  ``lecture_utils.compare``, each against one thread, with a 95 % interval;
  the raw samples are kept.
* **GPU results**, where PyTorch sees an NVIDIA GPU: the GPU lecture's matrix
  multiply in float32 and float64, its running example (eager, compiled,
  JAX), the same on a tiny grid where fixed costs dominate, and transfers.

Every result is checked against a reference before it is recorded.  The
record says where it comes from: CPU model and cores, memory, GPU, driver and
CUDA versions, library versions, the date (UTC) and the command; it names no
host.  ``lecture_utils.validate_recorded_results`` checks it before it is
written, and the lectures read it with ``lecture_utils.load_records``.

Small pure-Python wheels in ``build/record-wheels`` (``make record-wheels``)
are importable when the machine's Python lacks them (threadpoolctl; the CPU model comes
from /proc/cpuinfo where py-cpuinfo is missing).
Importing this module runs nothing.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import importlib.util
import json
import multiprocessing
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / "build" / "record-wheels"
sys.path += [str(wheel) for wheel in sorted(WHEELS.glob("*-py3-none-any.whl"))]  # after what is installed
sys.path.insert(0, str(ROOT / "lectures"))
try:
    import lecture_utils as lu
except ImportError as err:  # the machine's own Python may lack what the helpers need
    raise SystemExit(
        f"record.py: this Python ({sys.executable}) cannot import {err.name}, which the measuring helpers "
        "need; nothing was written."
    ) from None

DATA = ROOT / "lectures" / "data"
LIBRARIES = [
    "numpy",
    "scipy",
    "numba",
    "numba-cuda",
    "threadpoolctl",
    "psutil",
    "jax",
    "jaxlib",
    "jax-cuda12-plugin",
    "jax-cuda13-plugin",
    "torch",
    "triton",
    "cupy",
    "cupy-cuda12x",
    "cupy-cuda13x",
]
A = 3.0  # the grid covers [-A, A] x [-A, A], as in the lectures
TRIAD_SCALAR = 3.0


# ---------------------------------------------------------------------------
# Provenance
# ---------------------------------------------------------------------------


def physical_cores() -> int | None:
    """Distinct (socket, core) pairs among the CPUs this process may use (Linux), None where unknown."""
    pairs = set()
    if not hasattr(os, "sched_getaffinity"):
        return None
    for cpu in os.sched_getaffinity(0):
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            pairs.add(((topology / "physical_package_id").read_text(), (topology / "core_id").read_text()))
        except OSError:
            return None
    return len(pairs) or None


def last_level_cache() -> dict | None:
    """The last-level cache: bytes of one, how many CPUs share one, and all of them together (STREAM's rule)."""
    caches = lu._caches()  # (level, bytes, CPUs sharing it), from /sys
    if not caches:
        return None
    level, size, sharing = max(caches, key=lambda c: (c[0], c[1]))
    instances = -(-(os.cpu_count() or 1) // sharing) if sharing else 1
    return {"level": level, "bytes_each": size, "cpus_sharing_each": sharing, "bytes_total": size * instances}


def machine() -> dict:
    """The CPU, its cores, memory and system: no host name.

    ``cpu_cores`` counts the CPUs this process may use (its affinity mask), the
    thread counts of the scaling; ``physical_cores`` the distinct cores among
    them (fewer with SMT); ``cpu_quota`` a cgroup's limit, which the mask does
    not show.
    """
    quota = Path("/sys/fs/cgroup/cpu.max")
    return {
        "cpu_model": lu.cpu_model(),
        "cpu_cores": lu.cores(),
        "physical_cores": physical_cores(),
        "logical_cpus": os.cpu_count(),
        "cpu_quota": quota.read_text().strip() if quota.is_file() else None,
        "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else None,
        "last_level_cache": last_level_cache(),
        "operating_system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def command(argv: list[str]) -> str:
    """The command as run, with paths inside the repository made relative (no local paths)."""
    parts = ["python"]
    for arg in argv:
        key, eq, value = arg.partition("=") if arg.startswith("--") else ("", "", arg)
        if arg.startswith("--") and not eq:
            parts.append(arg)
            continue
        candidate = Path(value)
        if candidate.is_absolute():
            try:
                value = candidate.resolve().relative_to(ROOT).as_posix()
            except ValueError:
                value = f"<outside the repository>/{candidate.name}"
        parts.append(f"{key}{eq}{value}" if eq else value)
    return shlex.join(parts)


def output_name(machine_info: dict, gpu: dict | None) -> str:
    """One file per machine: record-<gpu>-<cpu model>-<cores>.json, in lower case."""
    parts = ([gpu["device_name"]] if gpu else []) + [machine_info["cpu_model"], f"{machine_info['cpu_cores']}cores"]
    slug = re.sub(r"[^a-z0-9]+", "-", " ".join(parts).lower()).strip("-")
    return f"record-{slug}.json"


def thread_counts(cores: int) -> list[int]:
    """1, 2, 4, 8, ... up to ``cores``, and ``cores`` itself."""
    counts = [1]
    while counts[-1] * 2 <= cores:
        counts.append(counts[-1] * 2)
    return counts + ([cores] if counts[-1] != cores else [])


def threads_label(p: int) -> str:
    return f"{p} thread{'s' if p > 1 else ''}"


# ---------------------------------------------------------------------------
# CPU scaling
# ---------------------------------------------------------------------------


def curve(kernel: str, description: str, size: dict, control: str, cmp: lu.Comparison, counts: list[int]) -> dict:
    """One kernel's scaling curve from a comparison whose versions are threads_label(p), p in counts."""
    points = []
    for p in counts:
        timing = cmp.timing(threads_label(p))
        verdict = None if p == 1 else cmp[threads_label(p)]
        points.append(
            {
                "threads": p,
                "median_s": timing.median,
                "min_s": timing.minimum,
                "samples_s": list(timing.times),
                "calls_per_sample": timing.number,
                "busy_cores": timing.busy_cores,
                "ratio": 1.0 if verdict is None else verdict.ratio,
                "low": 1.0 if verdict is None else verdict.low,
                "high": 1.0 if verdict is None else verdict.high,
            }
        )
    print(f"  {kernel:<14} " + "  ".join(f"{p}: {lu.format_time(pt['median_s'])}" for p, pt in zip(counts, points)))
    return {"kernel": kernel, "description": description, "size": size, "control": control, "points": points}


def collatz_steps(start: int, stop: int) -> int:
    """CPU-bound pure Python: the total number of Collatz steps of start, ..., stop - 1."""
    total = 0
    for n in range(start, stop):
        while n != 1:
            n = 3 * n + 1 if n % 2 else n // 2
            total += 1
    return total


def process_pool(args, counts, notes) -> dict:
    chunks = [(1 + k * args.task_size, 1 + (k + 1) * args.task_size) for k in range(args.tasks)]
    expected = collatz_steps(1, 1 + args.tasks * args.task_size)
    context = multiprocessing.get_context("spawn")  # safe beside the threads other libraries started
    pools = {p: concurrent.futures.ProcessPoolExecutor(p, mp_context=context) for p in counts}
    try:
        import psutil  # noqa: F401

        children = True
    except ImportError:
        children = False
        notes.append("psutil is missing: the process pool's busy cores are unknown (null).")

    def run(pool):
        return sum(pool.map(collatz_steps, *zip(*chunks)))

    try:
        versions = {threads_label(p): (lambda pool=pools[p]: run(pool)) for p in counts}
        cmp = lu.compare(versions, max_time=args.max_time, children=children, check=True)
    finally:
        for pool in pools.values():
            pool.shutdown()
    assert cmp.timing(threads_label(1)).result == expected
    pool_curve = curve(
        "process_pool",
        "Collatz steps of the first N integers in pure Python, in equal chunks over a pool of worker processes "
        "(spawned and kept alive; p workers for p threads)",
        {"tasks": args.tasks, "integers_per_task": args.task_size},
        "concurrent.futures.ProcessPoolExecutor(max_workers=p)",
        cmp,
        counts,
    )
    if not children:  # only the parent's CPU time was counted: not the pool's busy cores
        for point in pool_curve["points"]:
            point["busy_cores"] = None
    return pool_curve


def blas_matmul(args, counts, notes) -> dict | None:
    import numpy as np

    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        notes.append("threadpoolctl is missing (make record-wheels carries it): no BLAS scaling.")
        return None
    controller = ThreadpoolController()
    if not controller.select(user_api="blas"):
        notes.append("threadpoolctl finds no BLAS library under NumPy: no BLAS scaling.")
        return None
    rng = np.random.default_rng(args.seed)
    a, b = rng.standard_normal((2, args.matmul_n, args.matmul_n))

    def on(p):
        def run():
            with controller.limit(limits=p, user_api="blas"):
                return a @ b

        return run

    cmp = lu.compare({threads_label(p): on(p) for p in counts}, max_time=args.max_time, pause=0.05, rtol=1e-10)
    try:
        blas = lu.numpy_blas()  # the copy NumPy's @ calls, where several are loaded
        library = f"{blas['internal_api']} {blas['version']}"
    except LookupError:
        library = "not told apart from the other BLAS copies loaded"
    return curve(
        "blas_matmul",
        f"float64 matrix product a @ b by NumPy's BLAS ({library})",
        {"n": args.matmul_n},
        "threadpoolctl limit(limits=p, user_api='blas')",
        cmp,
        counts,
    )


def numba_kernels(args, counts, notes) -> list[dict]:
    import numpy as np

    try:
        import numba
        from numba import njit, prange
    except ImportError:
        notes.append("Numba is missing: no prange grid maximum and no STREAM triad.")
        return []

    @njit(parallel=True)
    def grid_max_parallel(grid):
        n = grid.size
        m = -np.inf
        for i in prange(n):
            x = grid[i]
            for j in range(n):
                y = grid[j]
                r2 = x * x + y * y
                m = max(m, np.cos(r2) / (1 + r2))
        return m

    @njit(parallel=True)
    def first_touch(a, b, c):  # written by the threads that use them: their pages on those threads' memory
        for i in prange(a.size):
            a[i] = 0.0
            b[i] = 1.0 + (i % 7) / 8
            c[i] = 0.5 + (i % 5) / 16

    @njit(parallel=True)
    def triad(a, b, c, s):
        for i in prange(a.size):
            a[i] = b[i] + s * c[i]
        return a

    top = numba.config.NUMBA_NUM_THREADS
    if counts[-1] > top:
        notes.append(f"NUMBA_NUM_THREADS is {top}: the Numba curves stop there.")
    counts = [p for p in counts if p <= top]

    def on(p, func):
        def run(*a):
            numba.set_num_threads(p)
            try:
                return func(*a)
            finally:
                numba.set_num_threads(top)

        return run

    grid = np.linspace(-A, A, args.grid_n)
    r2 = grid[:, None] ** 2 + grid[None, :] ** 2
    expected = float((np.cos(r2) / (1 + r2)).max())
    del r2
    versions = {threads_label(p): on(p, grid_max_parallel) for p in counts}
    cmp = lu.compare(versions, grid, max_time=args.max_time, pause=0.03, rtol=1e-15)
    assert abs(cmp.timing(threads_label(1)).result - expected) <= 1e-15
    curves = [
        curve(
            "numba_grid_max",
            "maximum of cos(x^2 + y^2) / (1 + x^2 + y^2) over an N x N grid, a Numba prange loop "
            f"(the lecture on Numba's parallel loops), threading layer {numba.threading_layer()}",
            {"N": args.grid_n},
            "numba.set_num_threads(p)",
            cmp,
            counts,
        )
    ]

    llc = (last_level_cache() or {}).get("bytes_total")
    n = args.triad_n or max(2**20, 4 * (llc or 32 * 2**20) // 8)  # STREAM: each array 4 times all caches
    a, b, c = np.empty(n), np.empty(n), np.empty(n)
    first_touch(a, b, c)
    versions = {threads_label(p): on(p, lambda: triad(a, b, c, TRIAD_SCALAR)) for p in counts}
    cmp = lu.compare(versions, max_time=args.max_time, pause=0.03, check=False)
    np.testing.assert_allclose(a, b + TRIAD_SCALAR * c, rtol=1e-15)
    size = f"{8 * n / llc:.1f} times the last-level caches together" if llc else "of unknown size against the caches"
    triad_curve = curve(
        "stream_triad",
        f"STREAM triad a = b + s c over float64 arrays of {n:,} elements, each {size}, first written in "
        "parallel by all threads; a Numba prange loop; 24 bytes moved per element as STREAM counts them",
        {"elements": n, "bytes_per_element": 24},
        "numba.set_num_threads(p)",
        cmp,
        counts,
    )
    for point in triad_curve["points"]:
        point["bandwidth_gb_s"] = 24 * n / point["median_s"] / 1e9
    return curves + [triad_curve]


def confined_calls(p: int, func, calls: int = 1):
    """``calls`` calls of func with every thread of this process on p cores (lu.on_cores), waited for inside.

    JAX sizes its CPU thread pool once, when it starts; confining its threads
    to p cores is the way to run it on p cores within one process.  Pinning
    and freeing every thread costs a few hundred microseconds on a machine
    with many threads, so one confinement holds several calls.
    """

    def run(*a):
        with lu.on_cores(p):
            for _ in range(calls):
                result = func(*a)
            return result.block_until_ready()

    return run


def jax_kernel(args, counts, notes) -> dict | None:
    import numpy as np

    if not (hasattr(os, "sched_setaffinity") and Path("/proc/self/task").is_dir()):
        notes.append("This system cannot confine threads to cores: no JAX scaling.")
        return None
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        notes.append("JAX is missing: no JAX scaling.")
        return None

    @jax.jit
    def grid_max(grid):
        r2 = grid[:, None] ** 2 + grid[None, :] ** 2
        return (jnp.cos(r2) / (1 + r2)).max()

    grid = np.linspace(-A, A, args.grid_n).astype(np.float32)
    on_cpu = jax.device_put(grid, jax.devices("cpu")[0])
    r2 = grid[:, None] ** 2 + grid[None, :] ** 2
    expected = float((np.cos(r2) / (1 + r2)).max())
    del r2
    versions = {threads_label(p): confined_calls(p, grid_max, args.jax_calls) for p in counts}
    cmp = lu.compare(versions, on_cpu, max_time=args.max_time, pause=0.03, check=False)
    assert abs(float(cmp.timing(threads_label(1)).result) - expected) <= 1e-5
    jax_curve = curve(
        "jax_grid_max",
        "the same grid maximum in float32 as one jax.jit function on the CPU, called calls_per_confinement "
        "times in each timed call; JAX's thread pool keeps its size, its threads confined to p cores",
        {"N": args.grid_n, "calls_per_confinement": args.jax_calls},
        "lecture_utils.on_cores(p): every thread of the process on p cores (os.sched_setaffinity)",
        cmp,
        counts,
    )
    for point in jax_curve["points"]:  # the confinement's own cost, inside each timed call
        point["confinement_s"] = lu.timeit(confined_calls(point["threads"], lambda: on_cpu), repeat=5).median
    jax_curve["unit"] = "cores"  # the pool keeps its threads; p is the cores they may run on
    return jax_curve


def quota_cpus() -> int | None:
    """The CPUs a cgroup v2 quota allows (cpu.max 'quota period'), rounded up; None without a quota."""
    path = Path("/sys/fs/cgroup/cpu.max")
    try:
        quota, period = path.read_text().split()[:2]
        return None if quota == "max" else -(-int(quota) // int(period))
    except (OSError, ValueError):
        return None


def cpu_scaling(args, notes) -> list[dict]:
    top = min(lu.cores(), args.max_threads)
    quota = quota_cpus()
    if quota is not None and quota < top:
        notes.append(f"A CPU quota allows {quota} of the {lu.cores()} CPUs in the affinity mask: scaled to {quota}.")
        top = quota
    if top < 2:
        raise SystemExit(
            f"record.py: this process may use {top} CPU(s) (affinity, quota and --max-threads): a scaling needs "
            "at least 2. On a cluster, ask for a whole node (Slurm: --exclusive, or --cpus-per-task=16); on a "
            "GPU machine, --no-cpu records the GPU alone. Nothing was written."
        )
    counts = thread_counts(top)
    print(f"CPU scaling on {', '.join(map(str, counts))} threads", flush=True)
    curves = [process_pool(args, counts, notes)]  # first: its workers start before other libraries' threads
    curves += [c for c in [blas_matmul(args, counts, notes)] if c] + numba_kernels(args, counts, notes)
    curves += [c for c in [jax_kernel(args, counts, notes)] if c]
    return curves


# ---------------------------------------------------------------------------
# GPU results
# ---------------------------------------------------------------------------


def _nvidia_smi(field: str) -> str:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return "unknown (nvidia-smi not found)"
    out = subprocess.run(
        [exe, f"--query-gpu={field}", "--format=csv,noheader"], capture_output=True, text=True, timeout=60
    )
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else "unknown (nvidia-smi failed)"


def find_gpu(notes) -> dict | None:
    """The GPU PyTorch sees, described; None (with a note) where there is none."""
    try:
        import torch
    except Exception:  # missing, or broken CUDA libraries (an OSError)
        if lu._gpus_from_driver():
            raise SystemExit(
                "record.py: the NVIDIA driver lists a GPU, but this Python has no PyTorch to use it; nothing was "
                "written. Install PyTorch with CUDA, or record the CPU only with --no-gpu."
            ) from None
        notes.append("PyTorch is missing: no GPU results.")
        return None
    if not torch.cuda.is_available():
        drivers = lu._gpus_from_driver()  # nvidia-smi's list, which needs no Python library
        if drivers:
            raise SystemExit(
                f"record.py: the NVIDIA driver lists {', '.join(drivers)}, but PyTorch sees no CUDA GPU (a CPU "
                "build of torch, or a driver it does not support); nothing was written. Fix the installation, "
                "or record the CPU only with --no-gpu."
            )
        notes.append("PyTorch sees no CUDA GPU: no GPU results.")
        return None
    props = torch.cuda.get_device_properties(0)
    return {
        "device_name": torch.cuda.get_device_name(0),
        "device_memory_bytes": int(props.total_memory),
        "compute_capability": f"{props.major}.{props.minor}",
        "multiprocessors": int(props.multi_processor_count),
        "mig_mode": _nvidia_smi("mig.mode.current"),
        "max_sm_clock": _nvidia_smi("clocks.max.sm"),
        "power_limit": _nvidia_smi("power.limit"),
        "driver_version": _nvidia_smi("driver_version"),
        "cuda_version": f"{torch.version.cuda} (the CUDA runtime PyTorch was built with)",
    }


def gpu_results(args, notes) -> list[dict]:
    """The GPU lecture's benchmarks, on the GPU and on all the CPU cores of the same machine."""
    import numpy as np
    import torch

    cores = lu.cores()
    torch.set_num_threads(cores)
    gpu = torch.device("cuda")
    results: list[dict] = []

    def record(benchmark, version, device, dtype, size, threads, timing, **extra):
        results.append(
            {
                "benchmark": benchmark,
                "version": version,
                "device": device,
                "dtype": dtype,
                "size": size,
                "threads": threads,
                "median_s": timing.median,
                "min_s": timing.minimum,
                "samples_s": list(timing.times),
                "calls_per_sample": timing.number,
                "first_call_s": timing.compile_time,
                **extra,
            }
        )
        print(f"  {benchmark:<14} {version:<28} {lu.format_time(timing.median):>10}", flush=True)

    def check(result, expected, rtol, atol=0.0):
        if hasattr(result, "detach"):
            result = result.detach().cpu().numpy()
        np.testing.assert_allclose(np.asarray(result, dtype=np.float64), expected, rtol=rtol, atol=atol)

    try:
        import jax
        import jax.numpy as jnp

        jax_cpu = jax.devices("cpu")[0]
        try:
            jax_gpu = jax.devices("gpu")[0]
        except RuntimeError:
            jax_gpu = None
            notes.append("JAX has no GPU backend here: JAX ran on the CPU only.")
    except ImportError:
        jax = None
        notes.append("JAX is missing: no JAX GPU results.")

    rng = np.random.default_rng(args.seed)

    # --- matrix multiply, float32 and float64 (precision) --------------------
    n = args.gpu_matmul_n
    print(f"GPU: matmul, {n} x {n}", flush=True)
    a64, b64 = rng.standard_normal((2, n, n))
    c_ref = a64 @ b64
    for dtype, np_dtype in [("float32", np.float32), ("float64", np.float64)]:
        a_np, b_np = a64.astype(np_dtype), b64.astype(np_dtype)
        suffix = "" if dtype == "float32" else ", float64"
        tol = dict(rtol=1e-3, atol=1e-3 * np.sqrt(n)) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
        check(a_np @ b_np, c_ref, **tol)
        record("matmul", f"NumPy (BLAS){suffix}", "cpu", dtype, n, cores, lu.timeit(np.matmul, a_np, b_np))
        a_gpu, b_gpu = torch.from_numpy(a_np).to(gpu), torch.from_numpy(b_np).to(gpu)
        check(a_gpu @ b_gpu, c_ref, **tol)
        record("matmul", f"PyTorch GPU{suffix}", "gpu", dtype, n, None, lu.timeit(torch.matmul, a_gpu, b_gpu))
        del a_gpu, b_gpu
        if jax is not None and jax_gpu is not None and dtype == "float32":
            # Full float32 precision, as PyTorch uses by default: without it JAX may use TF32 on recent GPUs.
            matmul_jit = jax.jit(lambda a, b: jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST))
            a_j, b_j = jax.device_put(a_np, jax_gpu), jax.device_put(b_np, jax_gpu)
            timing = lu.timeit(matmul_jit, a_j, b_j)  # timed first: its first call compiles (first_call_s)
            check(timing.result, c_ref, **tol)
            record("matmul", "JAX GPU (jit)", "gpu", dtype, n, None, timing)
            del a_j, b_j
    torch.cuda.empty_cache()

    # --- the running example (fusion) and a tiny grid (fixed costs) ------------
    def grid_max_numpy(grid):
        r2 = grid[:, None] ** 2 + grid[None, :] ** 2
        return (np.cos(r2) / (1 + r2)).max()

    def grid_max_torch(grid):
        r2 = grid[:, None] ** 2 + grid[None, :] ** 2
        return (torch.cos(r2) / (1 + r2)).max()

    for benchmark, size in [("grid_max", args.gpu_grid_n), ("grid_max_tiny", args.tiny_n)]:
        print(f"GPU: {benchmark}, {size} x {size} grid", flush=True)
        grid64 = np.linspace(-A, A, size)
        expected = grid_max_numpy(grid64)
        grid32 = grid64.astype(np.float32)
        number = max(1, args.points_per_run // size**2)
        check(grid_max_numpy(grid32), expected, rtol=1e-5)
        record(
            benchmark,
            "NumPy (ufuncs, 1 thread)",
            "cpu",
            "float32",
            size,
            1,
            lu.timeit(grid_max_numpy, grid32, number=number),
        )
        g_cpu = torch.from_numpy(grid32)
        check(grid_max_torch(g_cpu), expected, rtol=1e-5)
        record(
            benchmark,
            f"PyTorch CPU ({cores} threads)",
            "cpu",
            "float32",
            size,
            cores,
            lu.timeit(grid_max_torch, g_cpu, number=number),
        )
        g_gpu = torch.linspace(-A, A, size, dtype=torch.float32, device=gpu)  # made on the GPU
        check(grid_max_torch(g_gpu), expected, rtol=1e-5)
        record(benchmark, "PyTorch GPU", "gpu", "float32", size, None, lu.timeit(grid_max_torch, g_gpu, number=number))
        if benchmark == "grid_max":
            try:  # timed first: its first call compiles (first_call_s)
                timing = lu.timeit(torch.compile(grid_max_torch), g_gpu, number=number)
            except Exception as err:  # no Triton or no compiler: record why, keep the rest
                notes.append(f"torch.compile on the GPU failed ({type(err).__name__}): no compiled result.")
            else:
                check(timing.result, expected, rtol=1e-5)  # a wrong answer stops the recording
                record(benchmark, "PyTorch GPU (torch.compile)", "gpu", "float32", size, None, timing)
        if jax is not None:

            def grid_max_jax(grid):
                r2 = grid[:, None] ** 2 + grid[None, :] ** 2
                return (jnp.cos(r2) / (1 + r2)).max()

            grid_max_jit = jax.jit(grid_max_jax)
            for label, device, where in [("JAX CPU (jit)", jax_cpu, "cpu"), ("JAX GPU (jit)", jax_gpu, "gpu")]:
                if device is None:
                    continue
                g_j = jax.device_put(grid32, device)
                timing = lu.timeit(grid_max_jit, g_j, number=number)  # timed first: its first call compiles
                check(timing.result, expected, rtol=1e-5)
                record(benchmark, label, where, "float32", size, cores if where == "cpu" else None, timing)

    # --- transfers --------------------------------------------------------------
    nbytes = args.transfer_mib * 2**20
    print(f"GPU: transfers, {args.transfer_mib} MiB", flush=True)
    host = torch.from_numpy(rng.standard_normal(nbytes // 4).astype(np.float32))
    pinned = host.pin_memory()
    on_gpu = host.to(gpu)
    check(on_gpu, host.numpy(), rtol=0)
    for version, func, source in [
        ("host to device (pageable)", lambda x: x.to(gpu), host),
        ("host to device (pinned)", lambda x: x.to(gpu, non_blocking=True), pinned),
        ("device to host", lambda x: x.to("cpu"), on_gpu),
    ]:
        timing = lu.timeit(func, source)
        if version == "device to host":
            check(timing.result, host.numpy(), rtol=0)
        record(
            "transfer",
            version,
            "gpu",
            "float32",
            int(nbytes),
            None,
            timing,
            bytes=int(nbytes),
            bandwidth_gb_s=nbytes / timing.median / 1e9,
        )
    return results


# ---------------------------------------------------------------------------
# The record
# ---------------------------------------------------------------------------


def run(args: argparse.Namespace, argv: list[str]) -> dict:
    started = time.perf_counter()
    # JAX would otherwise reserve most of the GPU's memory when it starts, leaving too little for PyTorch.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    notes: list[str] = []
    load_at_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    gpu = None if args.no_gpu else find_gpu(notes)  # first: a broken GPU set-up stops before minutes of CPU work
    scaling = cpu_scaling(args, notes) if not args.no_cpu else []
    results = gpu_results(args, notes) if gpu else []
    data = {
        "format": lu.RECORD_FORMAT,
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command(argv),
        "machine": machine(),
        "gpu": gpu,
        "library_versions": lu.library_versions(LIBRARIES),
        "settings": {
            **{key: value for key, value in vars(args).items() if key != "output"},
            "timing": "CPU scaling: lecture_utils.compare, every thread count in the same shuffled rounds, the "
            "ratio to one thread with a 95 % distribution-free interval; GPU: lecture_utils.timeit, one warm-up "
            "call (first_call_s: with compilation for the jit and torch.compile versions, which are timed before "
            "their check; a warm call for the others, checked first), then repeated runs, each waiting for the GPU",
            "environment": {
                name: value
                for name, value in sorted(os.environ.items())
                if name.startswith(("OMP_", "OPENBLAS_", "MKL_", "NUMBA_", "XLA_", "JAX_", "CUDA_VISIBLE"))
            },
            "load_average_at_start": load_at_start,
            "load_average_at_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
            "seconds_taken": round(time.perf_counter() - started, 1),
        },
        "notes": notes,
        "scaling": scaling,
        "results": results,
    }
    lu.validate_recorded_results(data)
    return data


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--max-time", type=float, default=4.0, help="seconds of interleaved rounds per kernel")
    parser.add_argument("--max-threads", type=int, default=64, help="the largest thread count tried")
    parser.add_argument("--grid-n", type=int, default=2_000, help="grid points per axis (Numba and JAX)")
    parser.add_argument("--matmul-n", type=int, default=2_048, help="BLAS matrices are n x n")
    parser.add_argument(
        "--triad-n",
        type=int,
        default=0,
        help="triad elements (0: each array four times all last-level caches together)",
    )
    parser.add_argument("--jax-calls", type=int, default=10, help="JAX: calls per confinement to p cores")
    parser.add_argument("--tasks", type=int, default=64, help="process pool: tasks per call")
    parser.add_argument("--task-size", type=int, default=4_000, help="process pool: integers per task")
    parser.add_argument("--gpu-matmul-n", type=int, default=4_096, help="GPU: matrices are n x n")
    parser.add_argument("--gpu-grid-n", type=int, default=4_096, help="GPU: grid points per axis")
    parser.add_argument("--tiny-n", type=int, default=32, help="GPU: grid points per axis of the tiny problem")
    parser.add_argument("--points-per-run", type=int, default=1_000_000, help="GPU: small grids repeat to this")
    parser.add_argument("--transfer-mib", type=int, default=256, help="GPU: size of the array copied each way")
    parser.add_argument("--seed", type=int, default=20_261_206)
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU scaling")
    parser.add_argument("--no-gpu", action="store_true", help="skip the GPU results")
    parser.add_argument(
        "--output", type=Path, default=None, help="JSON file (default: lectures/data/record-<machine>.json)"
    )
    args = parser.parse_args(argv)
    for name in ["max_time"]:
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    for name in [
        "max_threads",
        "grid_n",
        "matmul_n",
        "jax_calls",
        "tasks",
        "task_size",
        "gpu_matmul_n",
        "gpu_grid_n",
        "tiny_n",
        "points_per_run",
        "transfer_mib",
    ]:
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.no_cpu and args.no_gpu:
        parser.error("--no-cpu and --no-gpu together leave nothing to record")
    return args


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if importlib.util.find_spec("scipy") is None:
        raise SystemExit(
            f"record.py: this Python ({sys.executable}) has no SciPy, which every verdict's interval needs; "
            "nothing was written."
        )
    data = run(args, ["scripts/record.py", *argv])
    output = args.output or DATA / output_name(data["machine"], data["gpu"])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(data, indent=1) + "\n")
    print(
        f"wrote {output.name}: {len(data['scaling'])} scaling curves and {len(data['results'])} GPU results "
        f"in {data['settings']['seconds_taken']:.0f} s"
    )
    for note in data["notes"]:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
