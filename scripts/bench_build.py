"""Measure a cold build (empty execution cache) and a warm no-change rebuild.

Usage: make bench-build   (or .venv/bin/python scripts/bench_build.py)

Both builds go to a temporary output folder, so the project's own _build and
its cache are left alone. For each build it prints the wall time and the peak
memory of the whole build: the resident memory of jupyter-book and every
process it starts (the kernels), summed and sampled every 0.1 s.
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

import site_build


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def timed_build(output: Path) -> tuple[float, int]:
    start = time.perf_counter()
    proc = psutil.Popen(
        site_build.command(site_build.ROOT, "--path-output", str(output)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=site_build.environment(),
    )
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, tree_rss(proc))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"build failed (exit {proc.returncode}):\n{proc.stderr.read()[-3000:]}")
    return elapsed, peak


def main() -> None:
    output = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        rows = [("cold (empty cache)", *timed_build(output)), ("warm (no change)", *timed_build(output))]
    finally:
        shutil.rmtree(output, ignore_errors=True)
    print(f"{'build':<20} {'wall time':>10} {'peak memory':>12}")
    for name, seconds, peak in rows:
        print(f"{name:<20} {seconds:>9.1f}s {peak / 2**30:>10.2f} GiB")
    print(f"({psutil.cpu_count()} logical cores, {psutil.virtual_memory().total / 2**30:.1f} GiB memory)")


if __name__ == "__main__":
    main()
