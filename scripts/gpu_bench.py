"""Time the GPU lecture's benchmarks on an NVIDIA GPU and record them with their provenance.

Usage, from the repository root, on a machine with an NVIDIA GPU and the GPU
extras installed (``pip install -r requirements.txt -r requirements-gpu.txt``)::

    python scripts/gpu_bench.py                 # writes lectures/data/gpu_results.json
    python scripts/gpu_bench.py --help          # problem sizes, repeats, output file

It times, on the GPU and on all the CPU cores of the same machine, in float32
unless said otherwise:

* the matrix multiply ``a @ b`` (NumPy/BLAS, PyTorch, JAX; PyTorch also in float64);
* the running example, the maximum of f(x, y) = cos(x^2 + y^2) / (1 + x^2 + y^2)
  over an N x N grid (NumPy, PyTorch eager and ``torch.compile``, JAX ``jit``);
* the same computation on a tiny grid, where fixed costs per call dominate;
* host-to-device copies (pageable and pinned memory) and the copy back.

Every result is checked against a float64 NumPy reference before it is
recorded, and times come from ``lecture_utils.timeit`` (a warm-up call, then
repeated runs that wait for the GPU before each clock stops). The output file
records where the numbers come from: GPU name, driver and CUDA versions,
library versions, the date (UTC), the CPU model and core count (no host name)
and the command that was run. The lecture ``lectures/gpu.md`` shows these
results, labelled as recorded, only when every provenance field is present.

The script refuses to run (exit status 2, nothing written) when PyTorch sees
no CUDA GPU.

The file's format is checked, and read by the lecture, by
``lecture_utils.validate_recorded_results`` and ``lecture_utils.load_recorded_results``
(beside the lectures); importing this module runs no benchmark.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lectures"))
import lecture_utils as lu  # noqa: E402

DEFAULT_OUTPUT = ROOT / "lectures" / "data" / "gpu_results.json"

EXIT_NO_GPU = 2


# ---------------------------------------------------------------------------
# Provenance
# ---------------------------------------------------------------------------


def _version(name: str) -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _nvidia_smi(field: str) -> str:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return "unknown (nvidia-smi not found)"
    out = subprocess.run(
        [exe, f"--query-gpu={field}", "--format=csv,noheader"], capture_output=True, text=True, timeout=60
    )
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else "unknown (nvidia-smi failed)"


def _command(argv: list[str]) -> str:
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


# ---------------------------------------------------------------------------
# Benchmarks
# ---------------------------------------------------------------------------


def refuse(message: str) -> None:
    print(
        f"gpu_bench.py: {message}\nNothing was written. This script needs an NVIDIA GPU that PyTorch "
        "can use; install the GPU extras with `pip install -r requirements-gpu.txt`.",
        file=sys.stderr,
    )
    raise SystemExit(EXIT_NO_GPU)


def run(args: argparse.Namespace, argv: list[str]) -> dict:
    try:
        import torch
    except ImportError:
        refuse("PyTorch is not installed.")
    if not torch.cuda.is_available():
        refuse("no CUDA GPU found (torch.cuda.is_available() is False).")

    # JAX would otherwise reserve most of the GPU's memory for itself when it
    # starts, leaving too little for PyTorch in the same process.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    import numpy as np

    cores = lu.cores()
    torch.set_num_threads(cores)
    gpu = torch.device("cuda")
    results: list[dict] = []
    notes: list[str] = []

    def record(benchmark, version, device, dtype, size, threads, timing, **extra):
        entry = {
            "benchmark": benchmark,
            "version": version,
            "device": device,
            "dtype": dtype,
            "size": size,
            "threads": threads,
            "median_s": timing.median,
            "min_s": timing.minimum,
            "repeat": timing.repeat,
            "first_call_s": timing.compile_time,
            **extra,
        }
        results.append(entry)
        print(f"  {benchmark:<12} {version:<28} {lu.format_time(timing.median):>10}", flush=True)

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
            notes.append("JAX has no GPU backend here (install the CUDA build of jax): JAX ran on the CPU only.")
    except ImportError:
        jax = None
        notes.append("JAX is not installed: no JAX results.")

    rng = np.random.default_rng(args.seed)
    blas_threads = cores
    try:
        from threadpoolctl import threadpool_info

        blas_threads = max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"), default=cores)
    except ImportError:
        pass

    # --- matrix multiply --------------------------------------------------
    n = args.matmul_n
    print(f"matmul, {n} x {n}", flush=True)
    a64 = rng.standard_normal((n, n))
    b64 = rng.standard_normal((n, n))
    c_ref = a64 @ b64
    for dtype, np_dtype in [("float32", np.float32), ("float64", np.float64)]:
        a_np, b_np = a64.astype(np_dtype), b64.astype(np_dtype)
        suffix = "" if dtype == "float32" else ", float64"
        tol = dict(rtol=1e-3, atol=1e-3 * np.sqrt(n)) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
        if dtype == "float32":
            check(a_np @ b_np, c_ref, **tol)
            record(
                "matmul",
                f"NumPy (BLAS, {blas_threads} threads)",
                "cpu",
                dtype,
                n,
                blas_threads,
                lu.timeit(np.matmul, a_np, b_np, repeat=args.repeat),
            )
        a_cpu, b_cpu = torch.from_numpy(a_np), torch.from_numpy(b_np)
        check(a_cpu @ b_cpu, c_ref, **tol)
        record(
            "matmul",
            f"PyTorch CPU ({cores} threads){suffix}",
            "cpu",
            dtype,
            n,
            cores,
            lu.timeit(torch.matmul, a_cpu, b_cpu, repeat=args.repeat),
        )
        a_gpu, b_gpu = a_cpu.to(gpu), b_cpu.to(gpu)
        check(a_gpu @ b_gpu, c_ref, **tol)
        record(
            "matmul",
            f"PyTorch GPU{suffix}",
            "gpu",
            dtype,
            n,
            None,
            lu.timeit(torch.matmul, a_gpu, b_gpu, repeat=args.repeat),
        )
        del a_gpu, b_gpu
        if jax is not None and dtype == "float32":
            # Full float32 precision, as PyTorch uses by default: without it JAX may use the
            # lower-precision TF32 format for float32 products on recent NVIDIA GPUs.
            matmul_jit = jax.jit(lambda a, b: jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST))
            for label, device, where in [("JAX CPU (jit)", jax_cpu, "cpu"), ("JAX GPU (jit)", jax_gpu, "gpu")]:
                if device is None:
                    continue
                a_j, b_j = jax.device_put(a_np, device), jax.device_put(b_np, device)
                check(matmul_jit(a_j, b_j), c_ref, **tol)
                record(
                    "matmul",
                    label,
                    where,
                    dtype,
                    n,
                    cores if where == "cpu" else None,
                    lu.timeit(matmul_jit, a_j, b_j, repeat=args.repeat),
                )
                del a_j, b_j
    torch.cuda.empty_cache()

    # --- the running example: grid maximum of f ----------------------------
    def grid_max_numpy(grid):
        r2 = grid[:, None] ** 2 + grid[None, :] ** 2
        return (np.cos(r2) / (1 + r2)).max()

    def grid_max_torch(grid):
        r2 = grid[:, None] ** 2 + grid[None, :] ** 2
        return (torch.cos(r2) / (1 + r2)).max()

    def grid_max_jax(grid):
        r2 = grid[:, None] ** 2 + grid[None, :] ** 2
        return (jnp.cos(r2) / (1 + r2)).max()

    for benchmark, size in [("grid_max", args.grid_n), ("grid_max_tiny", args.tiny_n)]:
        print(f"{benchmark}, {size} x {size} grid", flush=True)
        grid64 = np.linspace(-3.0, 3.0, size)
        expected = grid_max_numpy(grid64)
        grid32 = grid64.astype(np.float32)
        number = max(1, args.points_per_run // size**2)
        tol = dict(rtol=1e-5)
        check(grid_max_numpy(grid32), expected, **tol)
        record(
            benchmark,
            "NumPy (ufuncs, 1 thread)",
            "cpu",
            "float32",
            size,
            1,
            lu.timeit(grid_max_numpy, grid32, repeat=args.repeat, number=number),
        )
        g_cpu = torch.from_numpy(grid32)
        check(grid_max_torch(g_cpu), expected, **tol)
        record(
            benchmark,
            f"PyTorch CPU ({cores} threads)",
            "cpu",
            "float32",
            size,
            cores,
            lu.timeit(grid_max_torch, g_cpu, repeat=args.repeat, number=number),
        )
        g_gpu = torch.linspace(-3.0, 3.0, size, dtype=torch.float32, device=gpu)  # made on the GPU
        check(grid_max_torch(g_gpu), expected, **tol)
        record(
            benchmark,
            "PyTorch GPU",
            "gpu",
            "float32",
            size,
            None,
            lu.timeit(grid_max_torch, g_gpu, repeat=args.repeat, number=number),
        )
        if benchmark == "grid_max":
            try:
                compiled = torch.compile(grid_max_torch)
                check(compiled(g_gpu), expected, **tol)
                record(
                    benchmark,
                    "PyTorch GPU (torch.compile)",
                    "gpu",
                    "float32",
                    size,
                    None,
                    lu.timeit(compiled, g_gpu, repeat=args.repeat, number=number),
                )
            except Exception as err:  # no Triton or no compiler: record why, keep the rest
                notes.append(f"torch.compile on the GPU failed ({type(err).__name__}): no compiled result.")
        if jax is not None:
            grid_max_jit = jax.jit(grid_max_jax)
            for label, device, where in [("JAX CPU (jit)", jax_cpu, "cpu"), ("JAX GPU (jit)", jax_gpu, "gpu")]:
                if device is None:
                    continue
                g_j = jax.device_put(grid32, device)
                check(grid_max_jit(g_j), expected, **tol)
                record(
                    benchmark,
                    label,
                    where,
                    "float32",
                    size,
                    cores if where == "cpu" else None,
                    lu.timeit(grid_max_jit, g_j, repeat=args.repeat, number=number),
                )

    # --- transfers ------------------------------------------------------------
    nbytes = args.transfer_mib * 2**20
    print(f"transfers, {args.transfer_mib} MiB", flush=True)
    host = torch.from_numpy(rng.standard_normal(nbytes // 4).astype(np.float32))
    pinned = host.pin_memory()
    on_gpu = host.to(gpu)
    check(on_gpu, host.numpy(), rtol=0)
    for version, func, source in [
        ("host to device (pageable)", lambda x: x.to(gpu), host),
        ("host to device (pinned)", lambda x: x.to(gpu, non_blocking=True), pinned),
        ("device to host", lambda x: x.to("cpu"), on_gpu),
    ]:
        timing = lu.timeit(func, source, repeat=args.repeat)
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

    props = torch.cuda.get_device_properties(0)
    data = {
        "device_name": torch.cuda.get_device_name(0),
        "device_memory_bytes": int(props.total_memory),
        "compute_capability": f"{props.major}.{props.minor}",
        "driver_version": _nvidia_smi("driver_version"),
        "cuda_version": f"{torch.version.cuda} (the CUDA runtime PyTorch was built with)",
        "library_versions": {name: _version(name) for name in ["torch", "jax", "jaxlib", "numpy"]},
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpu_model": lu.cpu_model(),
            "cpu_cores": cores,
            "logical_cpus": os.cpu_count(),
            "operating_system": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(),
        },
        "command": _command(argv),
        "settings": {
            "matmul_n": args.matmul_n,
            "grid_n": args.grid_n,
            "tiny_n": args.tiny_n,
            "transfer_mib": args.transfer_mib,
            "repeat": args.repeat,
            "seed": args.seed,
            "timing": "lecture_utils.timeit: one warm-up call (first_call_s), then median and minimum of "
            "repeat runs, each waiting for the GPU (torch.cuda.synchronize, block_until_ready)",
            "XLA_PYTHON_CLIENT_PREALLOCATE": os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE"),
        },
        "notes": notes,
        "results": results,
    }
    lu.validate_recorded_results(data)
    return data


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--matmul-n", type=int, default=4096, help="matrices are n x n")
    parser.add_argument("--grid-n", type=int, default=4096, help="grid points per axis for the running example")
    parser.add_argument("--tiny-n", type=int, default=32, help="grid points per axis for the tiny problem")
    parser.add_argument(
        "--points-per-run",
        type=int,
        default=1_000_000,
        help="small grids are evaluated repeatedly until one timed run covers this many points",
    )
    parser.add_argument("--transfer-mib", type=int, default=256, help="size of the array copied to and from the GPU")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per measurement")
    parser.add_argument("--seed", type=int, default=20_260_101)
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="JSON file to write (default: lectures/data/gpu_results.json in the repository)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.output is None:
        args.output = DEFAULT_OUTPUT
    data = run(args, ["scripts/gpu_bench.py", *argv])
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {args.output.name}: {len(data['results'])} results on {data['device_name']}")


if __name__ == "__main__":
    main()
